//! The knowledge base's edges: the seed file format, the public help centre (JSON and HTML
//! pages) and the safe Markdown rendering behind it.

pub mod help_centre;
mod pages;
pub mod render;
pub mod seed;
