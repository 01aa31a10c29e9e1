//! The value syntaxes of the config (names, addresses, prefixes, PCI addresses) and what
//! a check returns: the value, or the field at fault and why.
use super::load::FieldPath;
use std::net::Ipv4Addr;
use wire::MacAddr;

pub(super) type Check<T> = Result<T, (FieldPath, String)>;

pub(super) fn is_pci_address(s: &str) -> bool {
    let b = s.as_bytes();
    // dddd:bb:dd.f or bb:dd.f
    let tail = |t: &[u8]| {
        t.len() == 7
            && t[2] == b':'
            && t[5] == b'.'
            && t.iter().enumerate().all(|(i, c)| i == 2 || i == 5 || c.is_ascii_hexdigit())
    };
    tail(b) || (b.len() == 12 && b[4] == b':' && b[..4].iter().all(u8::is_ascii_hexdigit) && tail(&b[5..]))
}

/// `a.b.c.d/len`.
pub fn parse_prefix(s: &str) -> Result<(Ipv4Addr, u8), String> {
    let (addr, len) = s.split_once('/').ok_or_else(|| format!("{s:?} is not ADDRESS/LENGTH"))?;
    let addr: Ipv4Addr = addr.trim().parse().map_err(|_| format!("{addr:?} is not an IPv4 address"))?;
    let len: u8 = len
        .trim()
        .parse()
        .ok()
        .filter(|l| *l <= 32)
        .ok_or_else(|| format!("prefix length {len:?} is not 0..32"))?;
    Ok((addr, len))
}

pub(super) fn parse_ip(s: &str) -> Result<Ipv4Addr, String> {
    s.trim().parse().map_err(|_| format!("{s:?} is not an IPv4 address"))
}

pub(super) fn parse_mac(s: &str) -> Result<MacAddr, String> {
    s.parse().map_err(|_| format!("{s:?} is not a MAC address (aa:bb:cc:dd:ee:ff)"))
}

pub(super) fn is_name(s: &str) -> bool {
    !s.is_empty() && s.len() <= 32 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_pci_addresses() {
        assert!(is_pci_address("0000:03:00.0"));
        assert!(is_pci_address("03:00.1"));
        assert!(!is_pci_address("net_af_packet0,iface=x"));
        assert!(!is_pci_address("0000:03:00"));
    }

    #[test]
    fn parses_prefixes() {
        assert_eq!(parse_prefix("10.0.0.1/8"), Ok(([10, 0, 0, 1].into(), 8)));
        assert!(parse_prefix("10.0.0.1").is_err());
        assert!(parse_prefix("10.0.0.1/33").is_err());
        assert!(parse_prefix("10.0.0.300/8").is_err());
    }
}
