#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ferrowall_fuzz::pptp_stream(data));
