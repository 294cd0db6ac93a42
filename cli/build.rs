//! Embeds the full `libc.so` of the provisioned wasm toolchain: components
//! built with `wit-dylib componentize --interpreter` link it unless given
//! another. A machine without the toolchain gets one line naming the command
//! that provisions it.

fn main() {
    println!("cargo:rerun-if-env-changed=WASI_SDK_PATH");
    println!("cargo:rerun-if-env-changed=WIT_DYLIB_HOME");
    let toolchain = match wit_dylib_toolchain::locate() {
        Ok(toolchain) => toolchain,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::exit(1);
        }
    };
    println!("cargo:rerun-if-changed={}", toolchain.libc_so.display());
    println!(
        "cargo:rustc-env=WIT_DYLIB_LIBC_FULL={}",
        toolchain.libc_so.display()
    );
}
