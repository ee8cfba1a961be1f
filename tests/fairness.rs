//! Fairness: busy tasks cannot starve sockets or timers, and an always-ready socket
//! yields to other tasks (the coop budget).

use std::cell::Cell;
use std::io::Write;
use std::rc::Rc;
use std::time::Duration;

use simmer::net::{TcpListener, TcpStream};
use simmer::time::sleep;
use simmer::{yield_now, Runtime};

#[test]
fn yielding_tasks_do_not_starve_a_timer() {
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let stop = Rc::new(Cell::new(false));
        let spinners: Vec<_> = (0..100)
            .map(|_| {
                let stop = stop.clone();
                simmer::spawn(async move {
                    let mut spins = 0u64;
                    while !stop.get() {
                        yield_now().await;
                        spins += 1;
                    }
                    spins
                })
            })
            .collect();
        // With 100 tasks always ready, the timer must still fire.
        sleep(Duration::from_millis(20)).await;
        stop.set(true);
        for s in spinners {
            assert!(s.await.unwrap() > 0);
        }
    });
}

#[test]
fn always_ready_socket_yields_to_other_tasks() {
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        // A std thread floods the connection with 8 MiB.
        let writer = std::thread::spawn(move || {
            let mut s = std::net::TcpStream::connect(addr).unwrap();
            let chunk = vec![7u8; 64 * 1024];
            for _ in 0..128 {
                if s.write_all(&chunk).is_err() {
                    break;
                }
            }
        });
        let (stream, _) = listener.accept().await.unwrap();
        let other_ran = Rc::new(Cell::new(0u32));
        let counter = other_ran.clone();
        let other = simmer::spawn(async move {
            loop {
                counter.set(counter.get() + 1);
                yield_now().await;
            }
        });
        // Read in small pieces without ever awaiting anything but the socket: the
        // budget forces a return to the loop every 128 reads.
        let reader = simmer::spawn(async move {
            let mut buf = [0u8; 512];
            let mut total = 0usize;
            loop {
                match stream.read(&mut buf).await.unwrap() {
                    0 => return total,
                    n => total += n,
                }
            }
        });
        let total = reader.await.unwrap();
        writer.join().unwrap();
        other.abort();
        assert_eq!(total, 8 * 1024 * 1024);
        // 8 MiB in 512-byte reads is 16384 reads; with a budget of 128 per poll the
        // other task got at least dozens of turns.
        assert!(
            other_ran.get() > 16,
            "other task ran {} times",
            other_ran.get()
        );
    });
}

#[test]
fn stream_to_itself_round_trips_with_read_and_write_in_one_task() {
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        for i in 0..1000u32 {
            client.write_all(&i.to_be_bytes()).await.unwrap();
            let mut b = [0u8; 4];
            server.read_exact(&mut b).await.unwrap();
            server.write_all(&b).await.unwrap();
            client.read_exact(&mut b).await.unwrap();
            assert_eq!(u32::from_be_bytes(b), i);
        }
    });
}

#[test]
fn waiting_on_a_socket_that_is_not_ready_spends_no_budget() {
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let idle_client = TcpStream::connect(addr).await.unwrap();
        let (idle, _) = listener.accept().await.unwrap();
        let busy_client = TcpStream::connect(addr).await.unwrap();
        let (busy, _) = listener.accept().await.unwrap();
        busy_client.write_all(&[1u8; 2048]).await.unwrap();
        // A full read: the socket stays marked readable (a short one would clear it).
        let mut buf = [0u8; 1024];
        busy.read_exact(&mut buf).await.unwrap();
        std::future::poll_fn(|cx| {
            // Far more waits than the budget holds, all in one poll.
            for _ in 0..4 * simmer::coop::BUDGET {
                assert!(idle.poll_read(cx, &mut buf).is_pending());
            }
            assert!(
                busy.poll_read(cx, &mut buf).is_ready(),
                "the budget was spent by waits that read nothing"
            );
            std::task::Poll::Ready(())
        })
        .await;
        drop(idle_client);
    });
}
