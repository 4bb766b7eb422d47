//! A fresh `omnidesk-local` process for one replay: the README's example config with the
//! desk's own port in it, its mail folders in a directory of its own, stopped on drop.

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The address the README's commands and example config name.
pub const README_ADDRESS: &str = "127.0.0.1:3000";
const EXAMPLE_CONFIG: &str = include_str!("../../omnidesk.example.toml");
const START_PATIENCE: Duration = Duration::from_secs(30);

pub struct Desk {
    child: Child,
    pub port: u16,
    /// The desk's working directory: `local-mail/` is in it.
    pub dir: PathBuf,
    pub config: PathBuf,
}

impl Desk {
    pub fn start(dir: &Path) -> Result<Self, String> {
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut last_error = String::new();
        // A port found free can be taken before the desk binds it: try another.
        for _ in 0..3 {
            let port = free_port()?;
            let config = dir.join("omnidesk.toml");
            let text = EXAMPLE_CONFIG.replace(README_ADDRESS, &format!("127.0.0.1:{port}"));
            std::fs::write(&config, text).map_err(|e| format!("{}: {e}", config.display()))?;
            let log = std::fs::File::create(dir.join("desk.log")).map_err(|e| e.to_string())?;
            let child = Command::new(binary())
                .args(["--config", &config.display().to_string(), "--port", &port.to_string()])
                .current_dir(dir)
                .stdin(Stdio::null())
                .stdout(log.try_clone().map_err(|e| e.to_string())?)
                .stderr(log)
                .spawn()
                .map_err(|e| format!("starting omnidesk-local: {e}"))?;
            let mut desk = Desk { child, port, dir: dir.to_owned(), config };
            match desk.wait_until_listening() {
                Ok(()) => return Ok(desk),
                Err(error) => last_error = error,
            }
        }
        Err(last_error)
    }

    fn wait_until_listening(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + START_PATIENCE;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("omnidesk-local exited at start ({status}):\n{}", self.log()));
            }
            if TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(format!("omnidesk-local did not listen within {START_PATIENCE:?}:\n{}", self.log()))
    }

    /// The end of the desk's log, for a failure message.
    pub fn log(&self) -> String {
        let log = std::fs::read_to_string(self.dir.join("desk.log")).unwrap_or_default();
        let start = log.len().saturating_sub(4_000);
        let start = (start..log.len()).find(|&i| log.is_char_boundary(i)).unwrap_or(log.len());
        log[start..].to_owned()
    }
}

impl Drop for Desk {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The omnidesk-local binary cargo built for this test.
pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_omnidesk-local")
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| format!("bind: {e}"))?;
    listener.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}
