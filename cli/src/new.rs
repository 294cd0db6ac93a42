//! `new NAME`: scaffolds an interpreter crate outside any workspace, from
//! the template in `cli/template` (embedded in the binary).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

#[derive(clap::Args, Clone, Debug)]
pub struct NewArgs {
    /// The crate's name (letters, digits, `-` and `_`), also the directory
    /// made for it.
    pub name: String,
    /// Where to make the crate (default: `./NAME`).
    #[arg(long, value_name = "DIR")]
    pub path: Option<PathBuf>,
    /// The `sdk` directory of a wit-dylib checkout, which the crate depends
    /// on by path while the SDK is not published (default: the checkout
    /// this `wit-dylib` was built from).
    #[arg(long, value_name = "DIR")]
    pub sdk_path: Option<PathBuf>,
}

/// The template's files: where each goes in the new crate, and its text
/// with `{{name}}`, `{{crate_name}}` and `{{sdk}}` to fill in.
const TEMPLATE: &[(&str, &str)] = &[
    // Stored as `.tmpl`: it is not TOML until filled in, and cargo would
    // take a directory holding a `Cargo.toml` for a package of its own.
    ("Cargo.toml", include_str!("../template/Cargo.toml.tmpl")),
    (".gitignore", include_str!("../template/.gitignore")),
    ("README.md", include_str!("../template/README.md")),
    ("app.calc", include_str!("../template/app.calc")),
    ("wit/world.wit", include_str!("../template/wit/world.wit")),
    ("src/lib.rs", include_str!("../template/src/lib.rs")),
    ("src/lang.rs", include_str!("../template/src/lang.rs")),
    ("src/values.rs", include_str!("../template/src/values.rs")),
];

/// Writes the crate and says what to run next.
pub fn run(args: &NewArgs) -> Result<()> {
    check_name(&args.name)?;
    let dir = args
        .path
        .clone()
        .unwrap_or_else(|| PathBuf::from(&args.name));
    if dir.exists() && std::fs::read_dir(&dir)?.next().is_some() {
        bail!("{} exists and is not empty", dir.display());
    }
    let sdk = sdk_dir(args.sdk_path.as_deref())?;
    // TOML basic strings take backslashes as escapes.
    let sdk_spec = format!(
        "{{ path = \"{}\" }}",
        sdk.display()
            .to_string()
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
    );
    let crate_name = args.name.replace('-', "_");
    for (path, text) in TEMPLATE {
        let text = text
            .replace("{{name}}", &args.name)
            .replace("{{crate_name}}", &crate_name)
            .replace("{{sdk}}", &sdk_spec);
        let path = dir.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    println!(
        "created interpreter crate `{}` in {} (SDK: {}); next: cd {} && wit-dylib build",
        args.name,
        dir.display(),
        sdk.display(),
        dir.display()
    );
    Ok(())
}

/// A name cargo takes for a package and that makes a C-safe library name.
fn check_name(name: &str) -> Result<()> {
    let mut chars = name.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid {
        bail!("`{name}` is not a crate name: use a letter, then letters, digits, `-` or `_`");
    }
    Ok(())
}

/// The SDK to depend on, as an absolute path, checked to be the SDK.
fn sdk_dir(given: Option<&Path>) -> Result<PathBuf> {
    let dir = match given {
        Some(dir) => dir.to_path_buf(),
        None => {
            // `cargo run` says where the checkout is at run time; an
            // installed binary knows where it was built.
            let built_from = std::env::var_os("CARGO_MANIFEST_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
                .join("../sdk");
            if !built_from.is_dir() {
                bail!(
                    "wit-dylib-sdk is not published yet: pass --sdk-path with the `sdk` \
                     directory of a wit-dylib checkout"
                );
            }
            built_from
        }
    };
    let dir = std::path::absolute(&dir)
        .and_then(|d| d.canonicalize())
        .with_context(|| format!("cannot find the SDK at {}", dir.display()))?;
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap_or_default();
    if !manifest.contains("name = \"wit-dylib-sdk\"") {
        bail!("{} is not the wit-dylib-sdk crate", dir.display());
    }
    Ok(dir)
}
