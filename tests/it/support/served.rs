//! A plant with a real `lotline serve` the test started: its commands reach that server,
//! and the server is stopped when the test ends, however it ends.

use super::{Plant, lotline, terminate};
use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};

pub struct Served {
    plant: Plant,
    pub socket: PathBuf,
    server: Option<Child>,
}

impl std::ops::Deref for Served {
    type Target = Plant;

    fn deref(&self) -> &Plant {
        &self.plant
    }
}

impl Served {
    /// `plant`, no server started yet.
    pub fn new(plant: Plant) -> Served {
        let socket = lotline_station::remote::socket_path(&plant.db);
        Served {
            plant,
            socket,
            server: None,
        }
    }

    /// `lotline serve --db PLANT EXTRA`, its log piped.
    pub fn serve_cmd(&self, extra: &[&str]) -> Command {
        let mut c = lotline();
        c.arg("serve")
            .arg("--db")
            .arg(&self.db)
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        c
    }

    /// Start the server and wait until it answers.
    pub fn serve(&mut self, extra: &[&str]) {
        let child = super::serve(&mut self.serve_cmd(extra), &self.socket);
        self.server = Some(child);
    }

    /// SIGTERM the server and wait for it: how it ended, and what it logged.
    pub fn stop(&mut self) -> (ExitStatus, String) {
        let mut child = self.server.take().expect("a server runs");
        // SAFETY: plain kill(2) of our own child.
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        let mut log = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = e.read_to_string(&mut log);
        }
        (child.wait().unwrap(), log)
    }

    /// SIGKILL the server and wait for it.
    pub fn kill9(&mut self) {
        let mut child = self.server.take().expect("a server runs");
        child.kill().unwrap();
        child.wait().unwrap();
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(mut c) = self.server.take() {
            terminate(&mut c);
        }
    }
}
