//! File and clock plumbing for the CLI: reading JSON and keys, writing private files
//! with mode 0600, atomic replacement, durations.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use jwt_edge::SigningKey;
use serde_json::{Map, Value};

use crate::{CliResult, Failure};

/// Seconds since the Unix epoch from the system clock.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Parses "90", "90s", "5m", "1h", "7d" into seconds.
pub fn parse_duration(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let value: u64 = digits
        .parse()
        .map_err(|_| format!("`{text}` is not a duration such as 90s, 5m, 1h, 7d"))?;
    let scale = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => {
            return Err(format!(
                "`{text}`: unknown unit `{unit}` (use s, m, h or d)"
            ))
        }
    };
    value
        .checked_mul(scale)
        .filter(|s| *s <= 10 * 365 * 86_400)
        .ok_or_else(|| format!("`{text}` is longer than ten years"))
}

/// Reads a file, or stdin for `-`.
pub fn read_input(path: &str) -> CliResult<Vec<u8>> {
    let mut bytes = Vec::new();
    if path == "-" {
        std::io::stdin()
            .take(1 << 20)
            .read_to_end(&mut bytes)
            .map_err(|e| Failure::new(format!("cannot read stdin: {e}")))?;
    } else {
        bytes = fs::read(path).map_err(|e| Failure::new(format!("cannot read {path}: {e}")))?;
    }
    Ok(bytes)
}

/// Reads a JSON object from a file.
pub fn read_object(path: &str) -> CliResult<Map<String, Value>> {
    let bytes = read_input(path)?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(Failure::new(format!("{path} is not a JSON object"))),
    }
}

/// Loads a private JWK from a file.
pub fn load_signing_key(path: &str) -> CliResult<SigningKey> {
    let jwk = read_object(path)?;
    SigningKey::from_jwk(&jwk)
        .map_err(|why| Failure::new(format!("{path} is not a usable private JWK: {why}")))
}

/// An HMAC secret given as base64url, or `@FILE` holding base64url (or raw bytes when
/// the file is not base64url).
pub fn read_secret(arg: &str) -> CliResult<Vec<u8>> {
    use base64ct::{Base64UrlUnpadded, Encoding};
    let text = match arg.strip_prefix('@') {
        Some(path) => {
            let bytes = read_input(path)?;
            match std::str::from_utf8(&bytes).map(str::trim) {
                Ok(t) if Base64UrlUnpadded::decode_vec(t).is_ok() => t.to_owned(),
                // Printable text that is not base64url is a placeholder or a password,
                // not a key (32 random bytes are all printable with odds of ~1e-14).
                Ok(t) if t.bytes().all(|b| b == b' ' || b.is_ascii_graphic()) => {
                    return Err(Failure::new(
                        "--secret @FILE holds text that is not base64url (a placeholder?); \
                         a key file holds base64url text or raw random bytes",
                    ))
                }
                _ => return Ok(bytes),
            }
        }
        None => arg.to_owned(),
    };
    // The core's parser, as the worker and the npm package read a secret.
    jwt_edge::parse_secret_text(&text).map_err(|why| {
        Failure::new(match why {
            jwt_edge::KeyRejection::TypedText => {
                "--secret refused: it reads as typed words (a placeholder?), not as a \
                 base64url-encoded random key; make one with `jwt-edge keygen --alg HS256`"
            }
            _ => "--secret is not unpadded base64url",
        })
    })
}

/// Writes a new private file with mode 0600; never overwrites unless `replace`.
pub fn write_private(path: &Path, contents: &str, replace: bool) -> CliResult {
    write_private_bytes(path, contents.as_bytes(), replace)
}

fn write_private_bytes(path: &Path, contents: &[u8], replace: bool) -> CliResult {
    let mut options = fs::OpenOptions::new();
    options.write(true);
    if replace {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(|e| Failure::new(format!("cannot create {}: {e}", path.display())))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(0o600))
            .map_err(|e| {
                Failure::new(format!("cannot set mode 0600 on {}: {e}", path.display()))
            })?;
    }
    file.write_all(contents)
        .map_err(|e| Failure::new(format!("cannot write {}: {e}", path.display())))
}

/// Replaces a file atomically (write beside it, then rename). A failure leaves neither
/// the file changed nor the temporary file behind.
pub fn write_atomic(path: &Path, contents: &str) -> CliResult {
    write_atomic_bytes(path, contents.as_bytes())
}

fn write_atomic_bytes(path: &Path, contents: &[u8]) -> CliResult {
    let tmp = path.with_extension("tmp-jwt-edge");
    if let Err(e) = fs::write(&tmp, contents) {
        let _ = fs::remove_file(&tmp);
        return Err(Failure::new(format!("cannot write {}: {e}", tmp.display())));
    }
    fs::rename(&tmp, path).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        Failure::new(format!("cannot replace {}: {e}", path.display()))
    })
}

/// How to undo one change of a [`Changes`].
enum Undo {
    /// A file that did not exist: remove it.
    Remove(PathBuf),
    /// A file that existed: put its bytes back (private files keep mode 0600).
    Restore {
        path: PathBuf,
        bytes: Vec<u8>,
        private: bool,
    },
    /// A directory that did not exist: remove it (only when empty again).
    RemoveDir(PathBuf),
}

/// Several file changes that succeed together or not at all: each change is recorded
/// with what was there before, and unless [`Changes::commit`] is called (a failure
/// returned early, a panic) they are undone in reverse order when this drops. A command
/// that fails half-way thus leaves the files as they were, not, say, a private key that
/// no JWKS lists.
#[derive(Default)]
pub struct Changes {
    undo: Vec<Undo>,
    committed: bool,
}

impl Changes {
    /// Creates `dir` and its missing parents, remembering which ones were created.
    pub fn create_dir_all(&mut self, dir: &Path) -> CliResult {
        let mut missing: Vec<PathBuf> = dir
            .ancestors()
            .filter(|d| !d.as_os_str().is_empty() && !d.exists())
            .map(Path::to_path_buf)
            .collect();
        // Outermost first, so that each is recorded as soon as it exists.
        missing.reverse();
        for d in missing {
            fs::create_dir(&d)
                .map_err(|e| Failure::new(format!("cannot create {}: {e}", d.display())))?;
            self.undo.push(Undo::RemoveDir(d));
        }
        Ok(())
    }

    /// [`write_private`], undoable.
    pub fn write_private(&mut self, path: &Path, contents: &str, replace: bool) -> CliResult {
        if !replace && path.exists() {
            // Refused below without touching it: nothing to undo.
            return write_private(path, contents, false);
        }
        self.remember(path, true)?;
        write_private(path, contents, replace)
    }

    /// [`write_atomic`], undoable.
    pub fn write_atomic(&mut self, path: &Path, contents: &str) -> CliResult {
        self.remember(path, false)?;
        write_atomic(path, contents)
    }

    /// Keeps the changes.
    pub fn commit(mut self) {
        self.committed = true;
    }

    fn remember(&mut self, path: &Path, private: bool) -> CliResult {
        let undo = match fs::read(path) {
            Ok(bytes) => Undo::Restore {
                path: path.to_path_buf(),
                bytes,
                private,
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Undo::Remove(path.to_path_buf()),
            Err(e) => return Err(Failure::new(format!("cannot read {}: {e}", path.display()))),
        };
        self.undo.push(undo);
        Ok(())
    }
}

impl Drop for Changes {
    fn drop(&mut self) {
        if self.committed {
            return;
        }
        while let Some(undo) = self.undo.pop() {
            let (path, outcome) = match &undo {
                Undo::Remove(path) => (
                    path,
                    match fs::remove_file(path) {
                        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.to_string()),
                        _ => Ok(()),
                    },
                ),
                Undo::Restore {
                    path,
                    bytes,
                    private,
                } => (
                    path,
                    if *private {
                        write_private_bytes(path, bytes, true)
                    } else {
                        write_atomic_bytes(path, bytes)
                    }
                    .map_err(|f| f.message),
                ),
                Undo::RemoveDir(dir) => (dir, fs::remove_dir(dir).map_err(|e| e.to_string())),
            };
            if let Err(why) = outcome {
                eprintln!(
                    "jwt-edge: could not undo a change to {}: {why}",
                    path.display()
                );
            }
        }
    }
}

/// One line of JSON.
pub fn json_line(value: &Value) -> String {
    let mut s = value.to_string();
    s.push('\n');
    s
}
