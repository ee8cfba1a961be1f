//! The frame format (RFC 6455 §5.2): a 2- to 14-byte header, then the payload.
//!
//! ```text
//!  byte 0: FIN | RSV1 RSV2 RSV3 | opcode (4 bits)
//!  byte 1: MASK | payload length (7 bits: 0-125, or 126 / 127 for a 16 / 64-bit
//!          length that follows)
//!  then:   the extended length, the 4-byte masking key if MASK, the payload
//! ```
//!
//! A client masks every frame it sends (XOR with the key, so that a proxy that does not
//! understand WebSocket cannot be tricked into caching attacker-chosen bytes); a
//! server never masks.

/// What a frame carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Opcode {
    /// The next fragment of a fragmented message.
    Continuation,
    /// A text message (or its first fragment).
    Text,
    /// A binary message (or its first fragment).
    Binary,
    /// The close handshake.
    Close,
    /// A ping: answered with a pong of the same payload.
    Ping,
    /// A pong.
    Pong,
}

impl Opcode {
    fn from_bits(bits: u8) -> Option<Opcode> {
        Some(match bits {
            0x0 => Opcode::Continuation,
            0x1 => Opcode::Text,
            0x2 => Opcode::Binary,
            0x8 => Opcode::Close,
            0x9 => Opcode::Ping,
            0xA => Opcode::Pong,
            _ => return None,
        })
    }

    fn bits(self) -> u8 {
        match self {
            Opcode::Continuation => 0x0,
            Opcode::Text => 0x1,
            Opcode::Binary => 0x2,
            Opcode::Close => 0x8,
            Opcode::Ping => 0x9,
            Opcode::Pong => 0xA,
        }
    }

    /// Close, ping and pong: at most 125 bytes, never fragmented.
    pub(crate) fn is_control(self) -> bool {
        matches!(self, Opcode::Close | Opcode::Ping | Opcode::Pong)
    }
}

/// A decoded frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) fin: bool,
    pub(crate) opcode: Opcode,
    pub(crate) mask: Option<[u8; 4]>,
    pub(crate) payload_len: u64,
    /// Bytes the header itself took.
    pub(crate) len: usize,
}

/// Why a header is not acceptable (the close code is 1002, protocol error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BadFrame(pub(crate) &'static str);

/// Decodes a header from the front of `buf`: `Ok(None)` if more bytes are needed.
pub(crate) fn parse_header(buf: &[u8]) -> Result<Option<Header>, BadFrame> {
    let [b0, b1, ..] = *buf else {
        return Ok(None);
    };
    if b0 & 0x70 != 0 {
        return Err(BadFrame("reserved bits set, but no extension was agreed"));
    }
    let opcode = Opcode::from_bits(b0 & 0x0F).ok_or(BadFrame("unknown opcode"))?;
    let fin = b0 & 0x80 != 0;
    let masked = b1 & 0x80 != 0;
    let (payload_len, mut len) = match b1 & 0x7F {
        126 => match buf.get(2..4) {
            Some(b) => (u16::from_be_bytes([b[0], b[1]]) as u64, 4),
            None => return Ok(None),
        },
        127 => match buf.get(2..10) {
            Some(b) => {
                let n = u64::from_be_bytes(b.try_into().expect("8 bytes"));
                if n >> 63 != 0 {
                    return Err(BadFrame("64-bit length with its top bit set"));
                }
                (n, 10)
            }
            None => return Ok(None),
        },
        n => (n as u64, 2),
    };
    if opcode.is_control() && (!fin || payload_len > 125) {
        return Err(BadFrame(
            "control frame fragmented or longer than 125 bytes",
        ));
    }
    let mask = if masked {
        let Some(key) = buf.get(len..len + 4) else {
            return Ok(None);
        };
        len += 4;
        Some([key[0], key[1], key[2], key[3]])
    } else {
        None
    };
    Ok(Some(Header {
        fin,
        opcode,
        mask,
        payload_len,
        len,
    }))
}

/// Appends a frame header to `out`.
pub(crate) fn write_header(
    out: &mut Vec<u8>,
    fin: bool,
    opcode: Opcode,
    mask: Option<[u8; 4]>,
    len: usize,
) {
    out.push(if fin { 0x80 } else { 0 } | opcode.bits());
    let mask_bit = if mask.is_some() { 0x80 } else { 0 };
    if len < 126 {
        out.push(mask_bit | len as u8);
    } else if len <= u16::MAX as usize {
        out.push(mask_bit | 126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(mask_bit | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    if let Some(key) = mask {
        out.extend_from_slice(&key);
    }
}

/// XORs `data` with the masking key (masking and unmasking are the same operation);
/// `offset` is where `data` starts within the frame's payload.
pub(crate) fn apply_mask(data: &mut [u8], key: [u8; 4], offset: usize) {
    for (i, byte) in data.iter_mut().enumerate() {
        *byte ^= key[(offset + i) % 4];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_length_form() {
        for len in [0usize, 5, 125, 126, 65535, 65536, 1 << 20] {
            let mut out = Vec::new();
            write_header(&mut out, true, Opcode::Binary, Some([1, 2, 3, 4]), len);
            let header = parse_header(&out).unwrap().unwrap();
            assert_eq!(header.payload_len, len as u64);
            assert_eq!(header.len, out.len());
            assert_eq!(header.mask, Some([1, 2, 3, 4]));
            // Every proper prefix asks for more.
            for cut in 0..out.len() {
                assert_eq!(parse_header(&out[..cut]), Ok(None), "len {len} cut {cut}");
            }
        }
    }

    #[test]
    fn rejects_what_rfc_6455_forbids() {
        assert!(parse_header(&[0x81 | 0x40, 0]).is_err()); // RSV1
        assert!(parse_header(&[0x83, 0]).is_err()); // opcode 3
        assert!(parse_header(&[0x09, 0]).is_err()); // fragmented ping
        assert!(parse_header(&[0x89, 126, 0, 126]).is_err()); // ping of 126 bytes
        let mut huge = vec![0x82, 127];
        huge.extend_from_slice(&u64::MAX.to_be_bytes());
        assert!(parse_header(&huge).is_err());
    }

    #[test]
    fn masking_twice_restores_the_data() {
        let mut data = b"Hello, WebSocket".to_vec();
        apply_mask(&mut data, [9, 8, 7, 6], 0);
        assert_ne!(&data[..], b"Hello, WebSocket");
        apply_mask(&mut data[..3], [9, 8, 7, 6], 0);
        apply_mask(&mut data[3..], [9, 8, 7, 6], 3);
        assert_eq!(&data[..], b"Hello, WebSocket");
    }
}
