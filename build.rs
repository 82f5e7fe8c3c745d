//! Generates the pprof profile types from `proto/profile.proto` with a pure-Rust protobuf
//! compiler, so building hangdoc needs no `protoc` binary.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto/profile.proto");
    let files = protox::compile(["proto/profile.proto"], ["proto"])?;
    prost_build::Config::new().compile_fds(files)?;
    Ok(())
}
