//! Embeds the full `libc.so` of the provisioned wasm toolchain, shrunk with
//! `wasm-opt`: components built with `wit-dylib componentize --interpreter`
//! link it unless given another. A machine without the toolchain gets one
//! line naming the command that provisions it.

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=WASI_SDK_PATH");
    println!("cargo:rerun-if-env-changed=WIT_DYLIB_HOME");
    if let Err(err) = embed_libc() {
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}

fn embed_libc() -> anyhow::Result<()> {
    let toolchain = wit_dylib_toolchain::locate()?;
    println!("cargo:rerun-if-changed={}", toolchain.libc_so.display());
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let libc = out_dir.join("libc.so");
    toolchain.wasm_opt.shrink(&toolchain.libc_so, &libc)?;
    println!("cargo:rustc-env=WIT_DYLIB_LIBC_FULL={}", libc.display());
    Ok(())
}
