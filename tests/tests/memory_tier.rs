//! The end-to-end scenarios on the in-memory backend.

omnidesk_tests::all_scenarios!(Some(omnidesk_tests::Backend::Memory));
