//! Big-endian header fields at fixed byte ranges: the one place the views turn network
//! byte order into integers and back. The range's length is the field's, so a field
//! table that names a wrong width fails the views' tests rather than reading past it.
use crate::Field;

#[inline]
pub(crate) fn u16_at(buf: &[u8], f: Field) -> u16 {
    let b = &buf[f];
    u16::from_be_bytes([b[0], b[1]])
}

#[inline]
pub(crate) fn u32_at(buf: &[u8], f: Field) -> u32 {
    let b = &buf[f];
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

#[inline]
pub(crate) fn set_u16(buf: &mut [u8], f: Field, value: u16) {
    buf[f].copy_from_slice(&value.to_be_bytes());
}

#[inline]
pub(crate) fn set_u32(buf: &mut [u8], f: Field, value: u32) {
    buf[f].copy_from_slice(&value.to_be_bytes());
}
