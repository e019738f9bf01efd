//! The proxy port's listening endpoint, and the buffers Pingora puts in
//! front of every connection it accepts there.
//!
//! Pingora's default is a 64 KiB read buffer per accepted connection,
//! allocated zero-filled (so resident from the start) and kept for the
//! connection's life. An open stream reads nothing more from its client
//! once its request is in, so with thousands of streams open those buffers
//! were the largest part of the gateway's memory (issue 13; the heap
//! profile is in `bench/RESULTS.md`). Neither reader needs it on plain
//! TCP: the edge reads request heads into its own buffer and Pingora reads
//! bodies into its own, each read going straight to the socket. On TLS the
//! buffer saves a system call per record (rustls reads a record at a time),
//! so it is kept there at the size of one record.

use std::net::SocketAddr;
use std::path::Path;

use pingora::listeners::tls::TlsSettings;
use pingora::listeners::{L4BufferSettings, ListenerConfig};

/// Read buffer of a plain TCP client connection: none, reads go to the socket.
pub const PLAIN_READ_BUFFER_BYTES: usize = 0;
/// Read buffer of a TLS client connection: one TLS record (16 KiB of
/// plaintext plus its header and tag).
pub const TLS_READ_BUFFER_BYTES: usize = 16 * 1024 + 512;
/// Write buffer of a client connection (Pingora's default, one segment).
pub const WRITE_BUFFER_BYTES: usize = 1460;

/// Where TLS certificates for the proxy port are.
pub struct TlsFiles<'a> {
    pub cert: &'a Path,
    pub key: &'a Path,
}

/// The proxy port's endpoint: `addr`, TLS when `tls` is given, and the
/// buffers above.
pub fn endpoint(addr: SocketAddr, tls: Option<TlsFiles<'_>>) -> pingora::Result<ListenerConfig> {
    let endpoint = ListenerConfig::tcp(addr.to_string());
    Ok(match tls {
        None => endpoint.l4_buffer(buffers(false)),
        Some(files) => endpoint
            .l4_buffer(buffers(true))
            .tls(TlsSettings::intermediate(
                &files.cert.to_string_lossy(),
                &files.key.to_string_lossy(),
            )?),
    })
}

fn buffers(tls: bool) -> L4BufferSettings {
    let read = if tls {
        TLS_READ_BUFFER_BYTES
    } else {
        PLAIN_READ_BUFFER_BYTES
    };
    L4BufferSettings::new(read, WRITE_BUFFER_BYTES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_connections_get_no_read_buffer_and_tls_ones_one_record() {
        assert_eq!(buffers(false).read_capacity(), 0);
        assert_eq!(buffers(true).read_capacity(), TLS_READ_BUFFER_BYTES);
        const {
            assert!(TLS_READ_BUFFER_BYTES >= 16 * 1024);
            assert!(TLS_READ_BUFFER_BYTES < pingora::listeners::DEFAULT_L4_READ_BUFFER_SIZE);
        }
        assert_eq!(buffers(false).write_capacity(), WRITE_BUFFER_BYTES);
    }
}
