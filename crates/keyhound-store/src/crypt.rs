//! Secret values at rest: XChaCha20-Poly1305 under a key kept in a file of its own.
//!
//! The key file is two lines: a header that says what it is, and 32 random bytes in hex.
//! Each value is sealed with a fresh random 24-byte nonce, and the finding's fingerprint as
//! associated data, so a value copied onto another finding's row does not decrypt.

use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use rand::TryRngCore as _;
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, Zeroizing};

use crate::{Error, SecretKey};

/// The first line of a key file.
const HEADER: &str = "keyhound-secret-key-v1";

/// An encrypted value as stored.
pub(crate) struct Sealed {
    pub(crate) ciphertext: Vec<u8>,
    pub(crate) nonce: Vec<u8>,
    pub(crate) key_id: String,
}

impl Drop for SecretKey {
    fn drop(&mut self) {
        self.key.zeroize();
    }
}

impl SecretKey {
    fn from_bytes(key: [u8; 32]) -> SecretKey {
        let id = hex::encode(&Sha256::digest(key)[..8]);
        SecretKey { key, id }
    }

    pub(crate) fn read(path: &Path) -> Result<Option<SecretKey>, Error> {
        let text = match fs_err::read_to_string(path) {
            Ok(t) => Zeroizing::new(t),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(Error::Key {
                    path: path.to_owned(),
                    source,
                });
            }
        };
        let bad = || Error::BadKey {
            path: path.to_owned(),
        };
        let mut lines = text.lines();
        if lines.next().map(str::trim) != Some(HEADER) {
            return Err(bad());
        }
        let hex_key = lines.next().map(str::trim).ok_or_else(bad)?;
        if lines.any(|l| !l.trim().is_empty()) {
            return Err(bad());
        }
        let mut key = Zeroizing::new([0u8; 32]);
        hex::decode_to_slice(hex_key, &mut key[..]).map_err(|_| bad())?;
        if let Ok(meta) = fs_err::metadata(path) {
            if meta.permissions().mode() & 0o077 != 0 {
                tracing::warn!(path = %path.display(), "the secret key file is readable by others; chmod 600 it");
            }
        }
        Ok(Some(SecretKey::from_bytes(*key)))
    }

    pub(crate) fn read_or_create(path: &Path) -> Result<SecretKey, Error> {
        if let Some(key) = SecretKey::read(path)? {
            return Ok(key);
        }
        let key_error = |source| Error::Key {
            path: path.to_owned(),
            source,
        };
        let mut key = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng
            .try_fill_bytes(&mut key[..])
            .map_err(|e| key_error(std::io::Error::other(e)))?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(key_error)?;
        }
        // Written under a temporary name, then linked into place: another process creating
        // the key at the same time either wins the link (and this one reads its key) or
        // loses it, and nobody ever reads a half-written file.
        let tmp = temp_name(path);
        let result = write_new(&tmp, &key).and_then(|()| std::fs::hard_link(&tmp, path));
        let _ = fs_err::remove_file(&tmp);
        match result {
            Ok(()) => Ok(SecretKey::from_bytes(*key)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                SecretKey::read(path)?.ok_or_else(|| key_error(e))
            }
            Err(e) => Err(key_error(e)),
        }
    }

    /// Seals `value` for the finding `fingerprint`.
    pub(crate) fn seal(&self, fingerprint: &str, value: &[u8]) -> Result<Sealed, Error> {
        let nonce: [u8; 24] = rand::random();
        let cipher = XChaCha20Poly1305::new(Key::from_slice(&self.key));
        let ciphertext = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: value,
                    aad: fingerprint.as_bytes(),
                },
            )
            .map_err(|_| Error::Decrypt {
                fingerprint: fingerprint.to_owned(),
                key_id: self.id.clone(),
            })?;
        Ok(Sealed {
            ciphertext,
            nonce: nonce.to_vec(),
            key_id: self.id.clone(),
        })
    }

    /// Opens a value sealed by [`SecretKey::seal`]; `None` when it is under another key or
    /// damaged.
    pub(crate) fn open(
        &self,
        fingerprint: &str,
        nonce: &[u8],
        ciphertext: &[u8],
    ) -> Option<Zeroizing<Vec<u8>>> {
        if nonce.len() != 24 {
            return None;
        }
        let cipher = XChaCha20Poly1305::new(Key::from_slice(&self.key));
        cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: fingerprint.as_bytes(),
                },
            )
            .ok()
            .map(Zeroizing::new)
    }
}

fn temp_name(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(format!(
        ".{}.{:08x}.tmp",
        std::process::id(),
        rand::random::<u32>()
    ));
    path.with_file_name(name)
}

fn write_new(path: &Path, key: &[u8; 32]) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    let text = Zeroizing::new(format!("{HEADER}\n{}\n", hex::encode(key)));
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_with_mode_0600_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/dir/secret.key");
        let a = SecretKey::read_or_create(&path).unwrap();
        let b = SecretKey::read_or_create(&path).unwrap();
        assert_eq!(a.id(), b.id());
        assert_eq!(a.id().len(), 16);
        let mode = fs_err::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let dir_mode = fs_err::metadata(path.parent().unwrap())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(dir_mode & 0o777, 0o700);
        assert!(!format!("{a:?}").contains(&hex::encode(a.key)));
        // Nothing but the key is left behind.
        assert_eq!(fs_err::read_dir(path.parent().unwrap()).unwrap().count(), 1);
    }

    #[test]
    fn other_files_are_refused_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notakey");
        fs_err::write(&path, "hello\n").unwrap();
        assert!(matches!(
            SecretKey::read_or_create(&path),
            Err(Error::BadKey { .. })
        ));
        assert_eq!(fs_err::read_to_string(&path).unwrap(), "hello\n");
        fs_err::write(&path, format!("{HEADER}\nzz\n")).unwrap();
        assert!(matches!(SecretKey::read(&path), Err(Error::BadKey { .. })));
        assert!(
            SecretKey::read(&dir.path().join("absent"))
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn sealed_values_open_with_their_key_and_fingerprint_only() {
        let dir = tempfile::tempdir().unwrap();
        let k1 = SecretKey::read_or_create(&dir.path().join("1")).unwrap();
        let k2 = SecretKey::read_or_create(&dir.path().join("2")).unwrap();
        let sealed = k1.seal("fp1", b"value").unwrap();
        assert_eq!(sealed.key_id, k1.id());
        assert_eq!(
            &k1.open("fp1", &sealed.nonce, &sealed.ciphertext)
                .unwrap()
                .as_slice(),
            b"value"
        );
        assert!(k2.open("fp1", &sealed.nonce, &sealed.ciphertext).is_none());
        assert!(k1.open("fp2", &sealed.nonce, &sealed.ciphertext).is_none());
        let again = k1.seal("fp1", b"value").unwrap();
        assert_ne!(again.nonce, sealed.nonce);
    }

    #[test]
    fn concurrent_creators_agree() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        let ids: Vec<String> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| s.spawn(|| SecretKey::read_or_create(&path).unwrap().id().to_owned()))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(ids.windows(2).all(|w| w[0] == w[1]), "{ids:?}");
    }
}
