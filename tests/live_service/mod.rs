//! A scenario program from `scenarios/<family>/<name>` built and started for a test, in its
//! own process group; dropping it kills the group (the service and its load generator).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running scenario.
pub struct Service {
    /// The service's process.
    pub child: Child,
    /// Its pprof address (`127.0.0.1:PORT`), from its READY line.
    pub pprof: String,
}

impl Drop for Service {
    fn drop(&mut self) {
        self.kill();
    }
}

impl Service {
    /// Builds `scenarios/<family>/<name>` into `dir` and starts it with `env`; waits for its
    /// `HANGDOC READY pprof=ADDR` line (90 s at most).
    pub fn start(family: &str, name: &str, dir: &Path, env: &[(&str, String)]) -> Service {
        let module = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("scenarios")
            .join(family);
        let exe = dir.join(name);
        let built = Command::new("go")
            .args(["build", "-trimpath", "-o"])
            .arg(&exe)
            .arg(format!("./{name}"))
            .current_dir(&module)
            .env("GOTOOLCHAIN", "local")
            .output()
            .expect("run go build");
        assert!(
            built.status.success(),
            "go build {name}: {}",
            String::from_utf8_lossy(&built.stderr)
        );
        use std::os::unix::process::CommandExt;
        let mut cmd = Command::new(&exe);
        cmd.env("HANGDOC_PPROF_ADDR", "127.0.0.1:0")
            .current_dir(dir)
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start scenario");
        let out = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if let Some(rest) = line.strip_prefix("HANGDOC READY pprof=") {
                    let _ = tx.send(rest.split_whitespace().next().unwrap_or("").to_string());
                }
            }
        });
        let mut s = Service {
            child,
            pprof: String::new(),
        };
        s.pprof = rx
            .recv_timeout(Duration::from_secs(90))
            .unwrap_or_else(|_| panic!("{name} printed no READY line within 90 s"));
        s
    }

    /// Kills the whole process group.
    pub fn kill(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
