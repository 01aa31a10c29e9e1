//! Finds DPDK with pkg-config, compiles the static-inline shim and generates bindings.
//!
//! pkg-config is asked rather than a library list hard-coded, so the link line follows
//! whatever the installed DPDK needs. `rte_net_ring` is added explicitly: the shared
//! build loads PMDs at `rte_eal_init`, but calling a driver API such as
//! `rte_eth_from_rings` needs the driver on the link line.
use std::env;
use std::path::PathBuf;
use std::process::Command;

fn pkg_config(args: &[&str]) -> Vec<String> {
    let out = Command::new("pkg-config")
        .args(args)
        .arg("libdpdk")
        .output()
        .unwrap_or_else(|e| panic!("cannot run pkg-config ({e}); run scripts/setup.sh"));
    if !out.status.success() {
        panic!(
            "pkg-config cannot find libdpdk: {}; run scripts/setup.sh to install libdpdk-dev",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    String::from_utf8_lossy(&out.stdout).split_whitespace().map(str::to_owned).collect()
}

fn emit_link_flags() {
    for flag in pkg_config(&["--libs"]) {
        if let Some(dir) = flag.strip_prefix("-L") {
            println!("cargo:rustc-link-search=native={dir}");
        } else if let Some(lib) = flag.strip_prefix("-l") {
            println!("cargo:rustc-link-lib={lib}");
        }
    }
    println!("cargo:rustc-link-lib=rte_net_ring");
}

/// The cflags pkg-config gives, as separate arguments (`-include rte_config.h` is two).
fn cflags() -> Vec<String> {
    pkg_config(&["--cflags"])
}

fn build_shim(cflags: &[String]) {
    let mut build = cc::Build::new();
    build.file("src/shim.c").include("src").opt_level(3);
    for flag in cflags {
        build.flag(flag);
    }
    build.compile("ferrowall_dpdk_shim");
}

fn generate_bindings(cflags: &[String]) {
    let bindings = bindgen::Builder::default()
        .header("src/wrapper.h")
        .clang_args(cflags.iter().filter(|f| !f.starts_with("-march")))
        .clang_arg("-Isrc")
        .allowlist_function(
            "rte_(eal|eth|pktmbuf|mempool|ring|lcore|socket|strerror|get_|delay|thash|version).*",
        )
        .allowlist_function("shim_.*")
        .allowlist_var("RTE_(ETH|MBUF|MAX|PKTMBUF|LCORE|MEMPOOL|RING)_.*")
        .allowlist_var("RING_F_.*")
        .allowlist_var("SOCKET_ID_ANY")
        .allowlist_var("LCORE_ID_ANY")
        .allowlist_type("rte_eth_(conf|dev_info|stats|rxconf|txconf|link|rss_conf)")
        .opaque_type("rte_l2tpv2_.*")
        .derive_debug(false)
        .derive_default(true)
        .layout_tests(false)
        .clang_macro_fallback()
        .generate_comments(false)
        .generate()
        .expect("bindgen failed on DPDK headers");
    let out = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR set by cargo"));
    bindings.write_to_file(out.join("bindings.rs")).expect("cannot write bindings.rs");
}

fn main() {
    println!("cargo:rerun-if-changed=src/shim.c");
    println!("cargo:rerun-if-changed=src/shim.h");
    println!("cargo:rerun-if-changed=src/wrapper.h");
    let cflags = cflags();
    emit_link_flags();
    build_shim(&cflags);
    generate_bindings(&cflags);
}
