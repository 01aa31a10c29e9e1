//! Every packet view on arbitrary bytes (an Ethernet frame).
use dataplane::nat::icmp_error;
use wire::flow;
use wire::{
    ArpPacket, ArpRepr, EthernetFrame, GrePacket, Icmpv4Packet, Ipv4Packet, Ipv4Repr, TcpPacket, UdpPacket,
};

pub fn packet_views(data: &[u8]) {
    let Ok(eth) = EthernetFrame::new_checked(data) else { return };
    let _ = (eth.dst_addr(), eth.src_addr(), eth.ethertype());
    let payload = eth.payload();
    if let Ok(arp) = ArpPacket::new_checked(payload) {
        if let Ok(repr) = ArpRepr::parse(&arp) {
            let mut buf = [0u8; 28];
            repr.emit(&mut ArpPacket::new_unchecked(&mut buf[..]));
            let again = ArpRepr::parse(&ArpPacket::new_checked(&buf[..]).expect("emitted ARP parses"));
            assert_eq!(again, Ok(repr), "ARP round trip");
        }
    }
    let Ok(ip) = Ipv4Packet::new_checked(payload) else { return };
    let _ = (ip.verify_checksum(), ip.source_routed(), ip.options(), ip.is_fragment());
    if let Ok(repr) = Ipv4Repr::parse(&ip) {
        let mut buf = vec![0u8; Ipv4Packet::<&[u8]>::HEADER_LEN + repr.payload_len];
        repr.emit(&mut Ipv4Packet::new_unchecked(&mut buf[..]));
        let back = Ipv4Packet::new_checked(&buf[..]).expect("an emitted header parses");
        assert_eq!(Ipv4Repr::parse(&back), Ok(repr), "IPv4 round trip");
        assert!(back.verify_checksum(), "emitted with its checksum");
    }
    let l4 = ip.payload();
    if let Ok(t) = TcpPacket::new_checked(l4) {
        let _ = (t.window_scale(), t.payload(), t.verify_checksum(ip.src_addr(), ip.dst_addr()));
    }
    if let Ok(u) = UdpPacket::new_checked(l4) {
        let _ = (u.payload(), u.verify_checksum(ip.src_addr(), ip.dst_addr()));
    }
    if let Ok(g) = GrePacket::new_checked(l4) {
        let _ = (g.call_id(), g.key(), g.seq_number(), g.ack_number(), g.payload(), g.verify_checksum());
    }
    if let Ok(i) = Icmpv4Packet::new_checked(l4) {
        let _ = (i.is_error(), i.data(), i.verify_checksum());
        if let Some((quoted, _)) = icmp_error::quoted_key(l4) {
            let mut copy = payload.to_vec();
            let _ = icmp_error::translate(&mut copy, (1, 2), &quoted);
        }
    }
    if !ip.is_fragment() {
        let _ = flow::extract(&ip);
    }
}
