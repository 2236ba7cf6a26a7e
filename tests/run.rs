//! One finished run of a program: its command line, exit status and both output streams, with
//! assertions that print all of them when they fail.

use std::fmt;
use std::process::{Command, ExitStatus, Stdio};

/// A finished run. Every assertion on it panics with the command line, the exit status, stdout
/// and stderr, so a failing test shows what the program was asked and what it said.
#[derive(Debug)]
pub struct Run {
    command_line: String,
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

impl Run {
    /// Runs the (freshly built) `pathwise` binary with these arguments.
    pub fn pathwise<I, S>(args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut command = Command::new(crate::pathwise());
        command.args(args);
        Self::command(&mut command)
    }

    /// Runs a prepared command to completion, stdin empty, both streams captured.
    pub fn command(command: &mut Command) -> Self {
        let command_line = command_line(command);
        let output = command
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run `{command_line}`: {e}"));
        Self {
            command_line,
            status: output.status,
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// The command line, shell-quoted, with any environment it set.
    pub fn command_line(&self) -> &str {
        &self.command_line
    }

    /// What the program wrote to stdout.
    pub fn stdout(&self) -> &str {
        &self.stdout
    }

    /// What the program wrote to stderr.
    pub fn stderr(&self) -> &str {
        &self.stderr
    }

    /// Asserts exit status 0.
    pub fn success(&self) -> &Self {
        self.check(self.status.success(), "expected exit status 0")
    }

    /// Asserts this exit code.
    pub fn exit_code(&self, code: i32) -> &Self {
        self.check(
            self.status.code() == Some(code),
            format!("expected exit code {code}"),
        )
    }

    /// Asserts that stdout is exactly `expected`.
    pub fn stdout_is(&self, expected: &str) -> &Self {
        self.check(
            self.stdout == expected,
            format!("expected stdout:\n{expected}"),
        )
    }

    /// Asserts `ok`; when false, panics with `what` and the whole run.
    pub fn check(&self, ok: bool, what: impl fmt::Display) -> &Self {
        if !ok {
            self.fail(what);
        }
        self
    }

    /// Panics with `what` and the whole run.
    pub fn fail(&self, what: impl fmt::Display) -> ! {
        panic!("{what}\n{self}")
    }

    /// Stdout parsed as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| self.fail(format!("stdout is not JSON: {e}")))
    }
}

impl fmt::Display for Run {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "--- command: {}", self.command_line)?;
        writeln!(f, "--- status: {}", self.status)?;
        writeln!(f, "--- stdout:\n{}", self.stdout)?;
        write!(f, "--- stderr:\n{}", self.stderr)
    }
}

/// `VAR=value program arg...`, each word quoted for a POSIX shell where needed, so a failing
/// command can be pasted into a terminal.
fn command_line(command: &Command) -> String {
    let envs = command.get_envs().filter_map(|(k, v)| {
        v.map(|v| format!("{}={}", k.to_string_lossy(), quote(&v.to_string_lossy())))
    });
    let words = std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|w| quote(&w.to_string_lossy()));
    envs.chain(words).collect::<Vec<_>>().join(" ")
}

fn quote(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./:=,@%+".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}
