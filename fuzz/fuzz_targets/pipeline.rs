#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ferrowall_fuzz::pipeline(data));
