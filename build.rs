//! Embeds the demo mailbox (`assets/demo/*.eml`) into the binary, so `secdesk demo` works
//! wherever the binary is installed.

use std::fmt::Write;
use std::path::Path;

fn main() {
    let dir = Path::new("assets/demo");
    println!("cargo:rerun-if-changed=assets/demo");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".eml"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let mut code = String::from("&[\n");
    for n in &names {
        let abs = std::fs::canonicalize(dir.join(n)).expect("demo file exists");
        writeln!(
            code,
            "    ({n:?}, include_bytes!({:?}) as &[u8]),",
            abs.display()
        )
        .unwrap();
    }
    code.push(']');
    let out =
        Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("demo_messages.rs");
    std::fs::write(out, code).expect("OUT_DIR is writable");
}
