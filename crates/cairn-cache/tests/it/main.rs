//! Integration tests of the cache against the real file system, with threads racing.

use cairn_cache::{Cache, CacheError, hash_bytes, hash_reader};
use cairn_package::{Checksum, ChecksumAlgo};
use std::io::{self, Read};
use std::path::Path;
use std::sync::{Arc, Barrier};
use std::time::{Duration, SystemTime};

fn sha256(data: &[u8]) -> Checksum {
    hash_bytes(ChecksumAlgo::Sha256, data)
}

/// All regular files under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in fs_err::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn insert_then_get_round_trips_for_every_algo() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(dir.path()).unwrap();
    let data = b"hello cairn\n";
    for algo in [
        ChecksumAlgo::Sha256,
        ChecksumAlgo::Sha384,
        ChecksumAlgo::Sha512,
        ChecksumAlgo::Sha224,
        ChecksumAlgo::Sha1,
        ChecksumAlgo::Md5,
    ] {
        let want = hash_bytes(algo, data);
        let (got, path) = cache.insert(&data[..], Some(&want), "memory").unwrap();
        assert_eq!(got, want);
        assert_eq!(path, cache.blob_path(&want));
        assert!(path.starts_with(dir.path().join("blobs").join(algo.as_str())));
        assert_eq!(fs_err::read(&path).unwrap(), data);
        assert_eq!(cache.get(&want, true).unwrap(), Some(path));
    }
    // Without an expectation, sha256 is used.
    let (c, _) = cache.insert(&b"other"[..], None, "memory").unwrap();
    assert_eq!(c, sha256(b"other"));
    // Nothing is left in tmp/.
    assert!(files_under(&dir.path().join("tmp")).is_empty());
}

#[test]
fn checksum_mismatch_is_refused_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(dir.path()).unwrap();
    let expected = sha256(b"what the metadata promised");
    let err = cache
        .insert(
            &b"what the mirror sent"[..],
            Some(&expected),
            "https://mirror/x.rpm",
        )
        .unwrap_err();
    let msg = err.to_string();
    match err {
        CacheError::ChecksumMismatch {
            origin,
            expected: e,
            actual,
        } => {
            assert_eq!(origin, "https://mirror/x.rpm");
            assert_eq!(e, expected);
            assert_eq!(actual, sha256(b"what the mirror sent"));
        }
        other => panic!("unexpected error {other}"),
    }
    assert!(
        msg.contains("https://mirror/x.rpm") && msg.contains(&expected.hex),
        "{msg}"
    );
    assert!(
        files_under(dir.path()).is_empty(),
        "{:?}",
        files_under(dir.path())
    );
}

/// A reader that yields some data and then fails, like a dropped connection.
struct FailingReader {
    sent: usize,
}

impl Read for FailingReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.sent >= 200_000 {
            return Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "peer went away",
            ));
        }
        let n = buf.len().min(1000);
        buf[..n].fill(b'x');
        self.sent += n;
        Ok(n)
    }
}

#[test]
fn interrupted_insert_leaves_no_blob() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(dir.path()).unwrap();
    let err = cache
        .insert(FailingReader { sent: 0 }, None, "http://host/big")
        .unwrap_err();
    assert!(matches!(err, CacheError::Read { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("http://host/big") && msg.contains("peer went away"),
        "{msg}"
    );
    assert!(
        files_under(dir.path()).is_empty(),
        "{:?}",
        files_under(dir.path())
    );
}

#[test]
fn corrupt_blob_is_detected_and_removed_by_verify() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(dir.path()).unwrap();
    let (c, path) = cache.insert(&b"good content"[..], None, "memory").unwrap();
    // Blobs are read-only; a corruption (bit rot, a careless user) has to force its way.
    let mut perms = fs_err::metadata(&path).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    fs_err::set_permissions(&path, perms).unwrap();
    fs_err::write(&path, b"bad content!").unwrap();

    // Without verification the (corrupt) file is returned as is.
    assert_eq!(cache.get(&c, false).unwrap(), Some(path.clone()));
    // Verification notices, deletes it and reports it absent.
    assert_eq!(cache.get(&c, true).unwrap(), None);
    assert!(!path.exists());
    assert_eq!(cache.get(&c, false).unwrap(), None);
    // Re-inserting repairs it.
    cache
        .insert(&b"good content"[..], Some(&c), "memory")
        .unwrap();
    assert_eq!(cache.get(&c, true).unwrap(), Some(path));
}

#[test]
fn concurrent_inserts_of_same_and_different_content() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(dir.path()).unwrap();
    let threads = 16;
    let barrier = Arc::new(Barrier::new(threads));
    let same: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let same_sum = sha256(&same);
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let cache = cache.clone();
            let barrier = barrier.clone();
            let same = same.clone();
            let same_sum = same_sum.clone();
            std::thread::spawn(move || {
                let own = format!("thread {t} content\n").repeat(10_000).into_bytes();
                barrier.wait();
                for _ in 0..5 {
                    let (c, p) = cache.insert(&same[..], Some(&same_sum), "same").unwrap();
                    assert_eq!(c, same_sum);
                    // Whatever another thread renames in, the blob is always whole.
                    assert_eq!(fs_err::read(&p).unwrap().len(), same.len());
                    let (c2, p2) = cache.insert(&own[..], None, "own").unwrap();
                    assert_eq!(fs_err::read(&p2).unwrap(), own);
                    assert_eq!(c2, sha256(&own));
                }
                sha256(&own)
            })
        })
        .collect();
    let own_sums: Vec<Checksum> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(
        cache.get(&same_sum, true).unwrap(),
        Some(cache.blob_path(&same_sum))
    );
    for c in &own_sums {
        assert!(cache.get(c, true).unwrap().is_some());
    }
    let blobs = files_under(&dir.path().join("blobs"));
    assert_eq!(blobs.len(), threads + 1, "{blobs:?}");
    assert!(files_under(&dir.path().join("tmp")).is_empty());
}

#[test]
fn refs_are_named_pointers_to_digests() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(dir.path()).unwrap();
    let key = "rpm-md:https://example.org/fedora/repodata/repomd.xml";
    assert_eq!(cache.get_ref(key).unwrap(), None);
    let a = sha256(b"a");
    let b = sha256(b"b");
    cache.set_ref(key, &a).unwrap();
    cache.set_ref("another\nkey with newline", &b).unwrap();
    assert_eq!(cache.get_ref(key).unwrap(), Some(a));
    cache.set_ref(key, &b).unwrap();
    assert_eq!(cache.get_ref(key).unwrap(), Some(b.clone()));
    assert_eq!(cache.get_ref("another\nkey with newline").unwrap(), Some(b));
    // Survives reopening.
    let again = Cache::open(dir.path()).unwrap();
    assert!(again.get_ref(key).unwrap().is_some());
    // The ref file records its key; a corrupt one is an error naming the file.
    let refs = files_under(&dir.path().join("refs"));
    assert_eq!(refs.len(), 2);
    let text = fs_err::read_to_string(&refs[0]).unwrap();
    assert!(text.contains("\"key\""), "{text}");
    fs_err::write(&refs[0], b"{ not json").unwrap();
    let errs: Vec<String> = [key, "another\nkey with newline"]
        .iter()
        .filter_map(|k| cache.get_ref(k).err().map(|e| e.to_string()))
        .collect();
    assert_eq!(errs.len(), 1);
    assert!(
        errs[0].contains(&refs[0].display().to_string()),
        "{}",
        errs[0]
    );
}

#[test]
fn open_cleans_stale_temps_only() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(dir.path()).unwrap();
    let tmp = dir.path().join("tmp");
    let stale = tmp.join("insert-stale");
    let fresh = tmp.join("insert-fresh");
    fs_err::write(&stale, b"partial").unwrap();
    fs_err::write(&fresh, b"in progress").unwrap();
    let two_days_ago = SystemTime::now() - Duration::from_secs(2 * 24 * 3600);
    std::fs::File::options()
        .write(true)
        .open(&stale)
        .unwrap()
        .set_modified(two_days_ago)
        .unwrap();
    let scratch = cache.tempdir().unwrap();
    assert!(scratch.path().starts_with(&tmp));
    drop(cache);
    Cache::open(dir.path()).unwrap();
    assert!(!stale.exists());
    assert!(fresh.exists());
    assert!(scratch.path().exists());
}

#[test]
fn hash_reader_matches_sha256sum() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("f");
    fs_err::write(&file, b"checked by the real tool\n").unwrap();
    let out = std::process::Command::new("sha256sum")
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let want = text.split_whitespace().next().unwrap();
    let got = hash_reader(ChecksumAlgo::Sha256, fs_err::File::open(&file).unwrap()).unwrap();
    assert_eq!(got.hex, want);
}
