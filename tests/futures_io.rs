//! With the `futures-io` feature, ecosystem combinators drive simmer's TcpStream.

use futures_util::io::{AsyncReadExt, AsyncWriteExt};
use simmer::net::{TcpListener, TcpStream};
use simmer::Runtime;

#[test]
fn futures_io_combinators_work_on_tcp_stream() {
    let rt = Runtime::new().unwrap();
    let echoed = rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = simmer::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut request = Vec::new();
            stream.read_to_end(&mut request).await.unwrap(); // until the client's FIN
            request.reverse();
            stream.write_all(&request).await.unwrap();
            stream.close().await.unwrap();
        });
        let mut client = TcpStream::connect(addr).await.unwrap();
        AsyncWriteExt::write_all(&mut client, b"simmer")
            .await
            .unwrap();
        client.close().await.unwrap(); // shutdown(Write)
        let mut reply = String::new();
        client.read_to_string(&mut reply).await.unwrap();
        server.await.unwrap();
        reply
    });
    assert_eq!(echoed, "remmis");
}
