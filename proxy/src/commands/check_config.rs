//! `pathwise check-config FILE`: validate a config file as `pathwise serve` would, and print
//! the effective configuration (docs/configuration.md).

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;

use crate::config::{self, ConfigError, Flags};

/// `pathwise check-config`.
#[derive(Args, Debug)]
pub struct CheckConfigArgs {
    /// The TOML config file; PATHWISE_* environment variables apply, as they do for serve.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

/// Validates the file with this process's `PATHWISE_*` environment and prints every key of
/// the effective configuration. A bad file is an error whose one line names the file and the
/// key, e.g. `/etc/pathwise.toml: policy.filter_aaaa: "sometimes" is not one of ...`; the
/// caller prints it after `pathwise: ` and exits 1.
pub fn run(args: &CheckConfigArgs) -> anyhow::Result<()> {
    let text = check(&args.file, &config::process_env())?;
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(())
}

/// The effective configuration of `file` under `env`, as TOML.
fn check(file: &Path, env: &HashMap<String, String>) -> Result<String, ConfigError> {
    config::load_file(file, env, &Flags::default()).map(|config| config.to_toml())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file under the temporary directory, removed on drop.
    struct TempFile(PathBuf);

    impl TempFile {
        fn new(name: &str, text: &str) -> Self {
            let path = std::env::temp_dir().join(format!(
                "pathwise-check-config-{}-{name}.toml",
                std::process::id()
            ));
            std::fs::write(&path, text).unwrap();
            Self(path)
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    #[test]
    fn a_good_file_prints_every_key() {
        let file = TempFile::new("good", "[policy]\nfilter_aaaa = \"never\"\n");
        let text = check(&file.0, &HashMap::new()).unwrap();
        assert!(text.contains("filter_aaaa = \"never\"\n"), "{text}");
        assert!(
            text.contains("[log]\nlevel = \"info\"\nformat = \"text\"\n"),
            "{text}"
        );
    }

    #[test]
    fn a_bad_file_is_one_line_naming_the_file_and_key() {
        let file = TempFile::new("bad", "[policy]\nfilter_aaaa = \"sometimes\"\n");
        let error = check(&file.0, &HashMap::new()).unwrap_err();
        assert_eq!(
            format!("{:#}", anyhow::Error::from(error)),
            format!(
                "{}: policy.filter_aaaa: \"sometimes\" is not one of teredo-only, no-native, \
                 always, never",
                file.0.display()
            )
        );
    }

    #[test]
    fn the_environment_applies_and_is_named() {
        let file = TempFile::new("env", "");
        let env = HashMap::from([("PATHWISE_LOG__LEVEL".to_owned(), "loud".to_owned())]);
        let error = check(&file.0, &env).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "{}: log.level: \"loud\" is not one of error, warn, info, debug, trace \
                 (from PATHWISE_LOG__LEVEL)",
                file.0.display()
            )
        );
    }

    #[test]
    fn a_missing_file_is_named() {
        let path = std::env::temp_dir().join("pathwise-check-config-no-such-file.toml");
        let error = check(&path, &HashMap::new()).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!("{}: No such file or directory (os error 2)", path.display())
        );
    }
}
