//! An HTTP endpoint that records every POST body: SNS (moto) delivers to HTTP subscribers, so this
//! is how a test sees what subscribers receive. moto posts synchronously inside Publish, so the
//! bodies are here by the time `publish` returns.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

pub struct HttpSink {
    addr: SocketAddr,
    bodies: Arc<Mutex<Vec<String>>>,
}

impl HttpSink {
    pub fn start() -> HttpSink {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the sink");
        let addr = listener.local_addr().unwrap();
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let sink = bodies.clone();
        // Detached: it lives as long as the test process, which is one test under nextest.
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                if let Some(body) = receive(stream) {
                    sink.lock().unwrap().push(body);
                }
            }
        });
        HttpSink { addr, bodies }
    }

    pub fn url(&self) -> String {
        format!("http://{}/sns", self.addr)
    }

    pub fn bodies(&self) -> Vec<String> {
        self.bodies.lock().unwrap().clone()
    }
}

fn receive(stream: TcpStream) -> Option<String> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().ok()?;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    let mut stream = stream;
    stream
        .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        .ok()?;
    String::from_utf8(body).ok()
}
