//! Embeds every `stdlib/*.inf` file (sorted, so the binary is reproducible)
//! as `(name, include_str!(path))` pairs for `compiler/src/stdlib.rs`.

use std::{env, fs, path::PathBuf};

fn main() {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets this"));
    let dir = root.join("stdlib");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut names: Vec<String> = fs::read_dir(&dir)
        .expect("stdlib/ exists")
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            name.strip_suffix(".inf").map(str::to_string)
        })
        .collect();
    names.sort();
    let mut out = String::from("[\n");
    for name in &names {
        let path = dir.join(format!("{name}.inf"));
        println!("cargo:rerun-if-changed={}", path.display());
        out.push_str(&format!(
            "    ({name:?}, include_str!({:?})),\n",
            path.display().to_string()
        ));
    }
    out.push(']');
    let dest =
        PathBuf::from(env::var("OUT_DIR").expect("cargo sets this")).join("stdlib_modules.rs");
    fs::write(dest, out).expect("OUT_DIR is writable");
}
