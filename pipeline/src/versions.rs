//! One version per WASI package in a component's imports.
//!
//! libc and Rust's std import the WASI 0.2 interfaces they use at the
//! version they were built against (0.2.4 today), and a world may use a
//! later 0.2 release (wasmtime-wasi-http 48 vendors 0.2.12). The component
//! linker already merges two imports of one interface at semver-compatible
//! versions into the newer, so `wasi:cli/stdout` is imported once, at the
//! world's version, when both the world and libc use it. An interface only
//! libc uses (`wasi:cli/environment`, `wasi:filesystem/types`, ...) would
//! stay at libc's version beside the world's, and the component would
//! import two releases of one package.
//!
//! [`aligned_world`] prevents that: the world library's embedded component
//! type also imports each such interface at the newest compatible version
//! the world's WIT defines, so that the linker merges libc's import into it.
//! The world library's code is generated from the world itself, so nothing
//! else changes. Packages the WIT does not define at a newer compatible
//! version (all of them, for a world that uses no WASI 0.2) stay at libc's
//! version, and a WASI 0.3 world's packages are not compatible with 0.2.

use std::collections::BTreeSet;

use anyhow::{Context, Result};
use wit_parser::{PackageId, Resolve, WorldId, WorldItem};

/// The world whose type to embed in the world library: `world` with an
/// import of every interface among `library_imports` (core import module
/// names such as `wasi:cli/environment@0.2.4`) that the WIT defines at a
/// newer compatible version, or `None` when there is none.
pub fn aligned_world<'a>(
    resolve: &Resolve,
    world: WorldId,
    library_imports: impl IntoIterator<Item = &'a str>,
) -> Result<Option<(Resolve, WorldId)>> {
    let imported: BTreeSet<String> = resolve.worlds[world]
        .imports
        .iter()
        .filter_map(|(key, item)| match item {
            WorldItem::Interface { .. } => Some(resolve.name_world_key(key)),
            _ => None,
        })
        .collect();
    let mut newer = BTreeSet::new();
    for module in library_imports {
        let Some(import) = Versioned::parse(module) else {
            continue;
        };
        let Some(package) = newest_compatible(resolve, &import) else {
            continue;
        };
        let name = format!(
            "{}/{}@{}",
            import.package,
            import.interface,
            package_version(resolve, package)
        );
        let defined = resolve.packages[package]
            .interfaces
            .contains_key(import.interface);
        if defined && !imported.contains(&name) {
            newer.insert(name);
        }
    }
    if newer.is_empty() {
        return Ok(None);
    }

    // A package of our own that includes the world and adds the imports;
    // wit-parser brings in what those interfaces use. Every name is written
    // `%name`, which WIT reads as that name even where it is a keyword.
    let original = &resolve.worlds[world];
    let package = &resolve.packages[original.package.context("the world has no package")?].name;
    let version = match &package.version {
        Some(version) => format!("@{version}"),
        None => String::new(),
    };
    let mut source = format!(
        "package wit-dylib-aligned:versions;\nworld aligned {{\n  include %{}:%{}/%{}{version};\n",
        package.namespace, package.name, original.name
    );
    for name in &newer {
        source.push_str(&format!("  import {};\n", escaped(name)));
    }
    source.push_str("}\n");
    let mut aligned = resolve.clone();
    let id = aligned
        .push_str("wit-dylib-aligned.wit", &source)
        .and_then(|package| aligned.select_world(&[package], Some("aligned")))
        .with_context(|| format!("aligning WASI versions with\n{source}"))?;
    Ok(Some((aligned, id)))
}

/// `namespace:package/interface@version` with each name `%`-escaped.
fn escaped(name: &str) -> String {
    let (path, version) = name.split_once('@').unwrap_or((name, ""));
    let path = path.replace(':', ":%").replace('/', "/%");
    format!("%{path}@{version}")
}

/// An interface import of a core module, `namespace:package/interface@version`.
struct Versioned<'a> {
    package: &'a str,
    interface: &'a str,
    version: (u64, u64, u64),
}

impl<'a> Versioned<'a> {
    fn parse(module: &'a str) -> Option<Versioned<'a>> {
        let (path, version) = module.split_once('@')?;
        let (package, interface) = path.split_once('/')?;
        Some(Versioned {
            package,
            interface,
            version: release(version)?,
        })
    }
}

/// `major.minor.patch`; pre-releases and anything else are `None`.
fn release(version: &str) -> Option<(u64, u64, u64)> {
    let mut parts = version.split('.').map(|part| part.parse::<u64>().ok());
    let release = (parts.next()??, parts.next()??, parts.next()??);
    parts.next().is_none().then_some(release)
}

/// The package of `import`'s name at the newest version that is newer than
/// the import's and semver-compatible with it.
fn newest_compatible(resolve: &Resolve, import: &Versioned) -> Option<PackageId> {
    let compatible = |(major, minor, _): (u64, u64, u64)| {
        let (want_major, want_minor, _) = import.version;
        major == want_major && (major != 0 || minor == want_minor)
    };
    resolve
        .packages
        .iter()
        .filter(|(_, package)| {
            format!("{}:{}", package.name.namespace, package.name.name) == import.package
        })
        .filter_map(|(id, _)| Some((release(&package_version(resolve, id))?, id)))
        .filter(|&(version, _)| compatible(version) && version > import.version)
        .max_by_key(|&(version, _)| version)
        .map(|(_, id)| id)
}

fn package_version(resolve: &Resolve, package: PackageId) -> String {
    resolve.packages[package]
        .name
        .version
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const WIT: &str = "
        package wasi:cli@0.2.12;
        interface environment { get-arguments: func() -> list<string>; }
        interface stdout { get-stdout: func() -> u32; }
        world app { import stdout; export run: func(); }
    ";

    fn app() -> (Resolve, WorldId) {
        let mut resolve = Resolve::default();
        let package = resolve.push_str("cli.wit", WIT).unwrap();
        let world = resolve.select_world(&[package], Some("app")).unwrap();
        (resolve, world)
    }

    fn imports(resolve: &Resolve, world: WorldId) -> Vec<String> {
        resolve.worlds[world]
            .imports
            .keys()
            .map(|key| resolve.name_world_key(key))
            .collect()
    }

    #[test]
    fn an_interface_only_libc_uses_moves_to_the_worlds_version() {
        let (resolve, world) = app();
        let libc = ["env", "wasi:cli/environment@0.2.4", "wasi:cli/stdout@0.2.4"];
        let (aligned, id) = aligned_world(&resolve, world, libc).unwrap().unwrap();
        let mut imported = imports(&aligned, id);
        imported.sort();
        assert_eq!(
            imported,
            ["wasi:cli/environment@0.2.12", "wasi:cli/stdout@0.2.12"]
        );
        // The world's exports are kept.
        assert_eq!(aligned.worlds[id].exports.len(), 1);
    }

    /// Names are written into WIT source, where keywords need escaping.
    #[test]
    fn worlds_and_packages_named_like_keywords_are_aligned_too() {
        let wit = WIT
            .replace("wasi:cli@", "wasi:%interface@")
            .replace("world app", "world %world");
        let mut resolve = Resolve::default();
        let package = resolve.push_str("keywords.wit", &wit).unwrap();
        // `select_world` reads its argument as a specifier, where `world` is a keyword.
        let world = resolve.packages[package].worlds["world"];
        let libc = ["wasi:interface/environment@0.2.4"];
        let (aligned, id) = aligned_world(&resolve, world, libc).unwrap().unwrap();
        assert!(
            imports(&aligned, id).contains(&"wasi:interface/environment@0.2.12".to_string()),
            "{:?}",
            imports(&aligned, id)
        );
    }

    #[test]
    fn incompatible_older_or_undefined_versions_are_left_alone() {
        let (resolve, world) = app();
        for module in [
            "wasi:cli/environment@0.3.0",
            "wasi:cli/environment@0.2.12",
            "wasi:cli/environment@0.2.20",
            "wasi:cli/environment@0.2.4-rc",
            "wasi:cli/exit@0.2.4",
            "wasi:clocks/wall-clock@0.2.4",
            "env",
        ] {
            assert!(
                aligned_world(&resolve, world, [module]).unwrap().is_none(),
                "{module}"
            );
        }
    }
}
