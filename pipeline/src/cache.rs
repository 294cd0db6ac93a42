//! The compilation cache: compiled code kept on disk between processes, so
//! that a second `run` or `serve` of a component compiles nothing and a
//! rebuild compiles only the functions that changed (the interpreter and
//! libc never do).
//!
//! Two stores share one directory: `$WIT_DYLIB_CACHE`, else `compiled/` in
//! the per-user directory the toolchain lives in (`$WIT_DYLIB_HOME`, else
//! `$XDG_CACHE_HOME/wit-dylib`, else `~/.cache/wit-dylib`).
//! `WIT_DYLIB_CACHE=off` turns both off.
//! * `components/`: wasmtime's own cache of whole compiled components,
//!   keyed by the component's bytes and the engine's settings, with
//!   wasmtime's clean-up of old entries;
//! * `functions/`: Cranelift's incremental cache, one file per compiled
//!   function, named by the hash Cranelift gives the function, its target
//!   and settings. Cranelift checks its version in every entry. Nothing
//!   cleans it: it grows by a few megabytes per interpreter build and a
//!   little per new world, and may be deleted at any time.
//!
//! The cache changes how fast code is compiled, never what it does: a hit
//! is the code the same compiler made for the same input. Files are written
//! whole to a temporary name and renamed, so concurrent builds only ever
//! see complete entries. A cache that cannot be used (no home directory, a
//! read-only disk) is skipped with one warning, never an error.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use wasmtime::{Cache, CacheConfig, CacheStore, Config};

/// Where the cache lives, or `None` when it is off.
pub fn directory() -> Option<PathBuf> {
    match std::env::var_os("WIT_DYLIB_CACHE") {
        Some(dir) if dir == "off" => None,
        Some(dir) if !dir.is_empty() => Some(PathBuf::from(dir)),
        _ => {
            let home = std::env::var_os("WIT_DYLIB_HOME").filter(|dir| !dir.is_empty());
            let xdg = || {
                let cache = std::env::var_os("XDG_CACHE_HOME")
                    .filter(|dir| !dir.is_empty())
                    .map(PathBuf::from)
                    .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache")));
                cache.map(|dir| dir.join("wit-dylib"))
            };
            home.map(PathBuf::from)
                .or_else(xdg)
                .map(|dir| dir.join("compiled"))
        }
    }
}

/// Makes engines built from `config` keep whole components and single
/// functions in the cache, if it is on.
pub fn use_all(config: &mut Config) {
    if let Some(stores) = stores() {
        config.cache(Some(stores.components.clone()));
    }
    use_functions(config);
}

/// Makes engines built from `config` keep single functions in the cache,
/// if it is on.
pub fn use_functions(config: &mut Config) {
    let Some(stores) = stores() else { return };
    if let Err(err) = config.enable_incremental_compilation(stores.functions.clone()) {
        warn(&format!("the function cache is off: {err}"));
    }
}

struct Stores {
    components: Cache,
    functions: Arc<FunctionCache>,
}

/// The stores, made once per process: wasmtime's cache starts a worker
/// thread, which every engine shares.
fn stores() -> Option<&'static Stores> {
    static STORES: OnceLock<Option<Stores>> = OnceLock::new();
    STORES
        .get_or_init(|| {
            let dir = directory()?;
            let functions = FunctionCache::open(dir.join("functions"))
                .map_err(|err| warn(&format!("the cache at {} is off: {err}", dir.display())))
                .ok()?;
            let mut config = CacheConfig::new();
            config.with_directory(dir.join("components"));
            let components = Cache::new(config)
                .map_err(|err| warn(&format!("the cache at {} is off: {err}", dir.display())))
                .ok()?;
            Some(Stores {
                components,
                functions: Arc::new(functions),
            })
        })
        .as_ref()
}

/// What the cache did in this process, for `WIT_DYLIB_CACHE_STATS`: whole
/// components and single functions found and compiled anew. `None` when
/// the cache is off.
pub fn report() -> Option<String> {
    let stores = stores()?;
    let functions = &stores.functions;
    Some(format!(
        "compilation cache {}: components {} found, {} compiled; functions {} found, {} compiled",
        stores
            .components
            .directory()
            .parent()
            .unwrap_or(Path::new(""))
            .display(),
        stores.components.cache_hits(),
        stores.components.cache_misses(),
        functions.hits.load(Ordering::Relaxed),
        functions.misses.load(Ordering::Relaxed),
    ))
}

/// Prints [`report`] to stderr when the environment variable
/// `WIT_DYLIB_CACHE_STATS` is set.
pub fn report_if_asked() {
    if std::env::var_os("WIT_DYLIB_CACHE_STATS").is_some()
        && let Some(report) = report()
    {
        eprintln!("{report}");
    }
}

fn warn(message: &str) {
    eprintln!("warning: {message}");
}

/// Cranelift's incremental cache as a directory of files.
#[derive(Debug)]
struct FunctionCache {
    dir: PathBuf,
    /// Numbers temporary files apart within this process.
    writes: AtomicU64,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl FunctionCache {
    fn open(dir: PathBuf) -> std::io::Result<FunctionCache> {
        std::fs::create_dir_all(&dir)?;
        Ok(FunctionCache {
            dir,
            writes: AtomicU64::new(0),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        })
    }

    fn path(&self, key: &[u8]) -> PathBuf {
        let name: String = key.iter().map(|byte| format!("{byte:02x}")).collect();
        self.dir.join(name)
    }
}

impl CacheStore for FunctionCache {
    fn get(&self, key: &[u8]) -> Option<Cow<'_, [u8]>> {
        let found = std::fs::read(self.path(key)).ok();
        let counter = match found {
            Some(_) => &self.hits,
            None => &self.misses,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found.map(Cow::Owned)
    }

    fn insert(&self, key: &[u8], value: Vec<u8>) -> bool {
        let path = self.path(key);
        let temporary = self.dir.join(format!(
            ".{}-{}.tmp",
            std::process::id(),
            self.writes.fetch_add(1, Ordering::Relaxed)
        ));
        let written =
            std::fs::write(&temporary, &value).and_then(|()| std::fs::rename(&temporary, &path));
        if written.is_err() {
            let _ = std::fs::remove_file(&temporary);
        }
        written.is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_survive_and_never_show_half_written() {
        let dir = std::env::temp_dir().join(format!("wit-dylib-cache-test-{}", std::process::id()));
        let cache = FunctionCache::open(dir.clone()).unwrap();
        assert!(cache.get(b"\x01\x02").is_none());
        assert!(cache.insert(b"\x01\x02", vec![7; 1000]));
        assert_eq!(cache.get(b"\x01\x02").unwrap().as_ref(), &[7; 1000][..]);
        // A second process sees it too, and no temporary file is left.
        let again = FunctionCache::open(dir.clone()).unwrap();
        assert_eq!(again.get(b"\x01\x02").unwrap().len(), 1000);
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, ["0102"]);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
