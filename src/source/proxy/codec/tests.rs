//! The codec's unit tests: header forms, masks, fragments, every fault, budget waits,
//! cancellation, and what a connection keeps after a large message.

use super::*;
use proptest::prelude::*;
use std::time::Duration;

fn budget() -> Arc<Budget> {
    Budget::new(1 << 30, Duration::from_millis(200))
}

/// A frame as `role`'s peer sends it.
fn frame(first: u8, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    let h = Header {
        fin: first & 0x80 != 0,
        rsv: (first >> 4) & 7,
        opcode: first & 0x0f,
        mask,
        len: payload.len() as u64,
    };
    let mut head = [0u8; 14];
    let n = encode_header(&h, &mut head);
    let mut out = head[..n].to_vec();
    let at = out.len();
    out.extend_from_slice(payload);
    if let Some(k) = mask {
        apply_mask(&mut out[at..], k, 0);
    }
    out
}

const K: Option<[u8; 4]> = Some([0x12, 0x34, 0x56, 0x78]);

/// Everything `bytes` yields read as the proxy's `role`, in reads of `chunk` bytes.
async fn read_all(
    bytes: Vec<u8>,
    role: Role,
    chunk: usize,
    max: usize,
) -> (Vec<Result<(Msg, bool), String>>, usize) {
    let (mut a, b) = tokio::io::duplex(chunk.max(1));
    let writer = tokio::spawn(async move {
        for c in bytes.chunks(chunk.max(1)) {
            if a.write_all(c).await.is_err() {
                return;
            }
        }
    });
    let mut r = Reader::new(b, role, &[], 64, max, &budget());
    let mut got = Vec::new();
    for _ in 0..100 {
        match tokio::time::timeout(Duration::from_secs(5), r.next()).await {
            Ok(Ok(m)) => got.push(Ok((m.msg, m.fragmented))),
            Ok(Err(ReadError::Fault(f))) => {
                got.push(Err(format!("{} {}", f.code, f.what)));
                break;
            }
            Ok(Err(_)) => break,
            Err(_) => panic!("the reader hung"),
        }
    }
    let retained = r.retained();
    drop(r); // the writer's blocked writes fail
    let _ = writer.await;
    (got, retained)
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

#[test]
fn headers_of_every_length_form_round_trip() {
    for len in [
        0u64,
        1,
        125,
        126,
        127,
        65_535,
        65_536,
        1 << 32,
        (1 << 63) - 1,
    ] {
        for mask in [None, K] {
            let h = Header {
                fin: len % 2 == 0,
                rsv: 0,
                opcode: op::BINARY,
                mask,
                len,
            };
            let mut out = [0u8; 14];
            let n = encode_header(&h, &mut out);
            let want = match len {
                0..=125 => 2,
                126..=65_535 => 4,
                _ => 10,
            } + if mask.is_some() { 4 } else { 0 };
            assert_eq!(n, want, "{len}");
            assert_eq!(parse_header(&out[..n]), Some((h, n)));
            // Cut anywhere: incomplete.
            for cut in 0..n {
                assert_eq!(parse_header(&out[..cut]), None, "{len} cut at {cut}");
            }
        }
    }
}

#[test]
fn the_mask_is_applied_at_any_offset_and_undone_by_itself() {
    let data: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
    let key = [1, 2, 3, 4];
    let mut whole = data.clone();
    apply_mask(&mut whole, key, 0);
    for (i, (m, d)) in whole.iter().zip(&data).enumerate() {
        assert_eq!(*m, d ^ key[i % 4]);
    }
    // In pieces of odd sizes, each at its offset: the same bytes.
    let mut pieces = data.clone();
    let mut at = 0;
    for size in [1usize, 3, 7, 13, 100, 876] {
        apply_mask(&mut pieces[at..at + size], key, at);
        at += size;
    }
    assert_eq!(pieces, whole);
    apply_mask(&mut whole, key, 0);
    assert_eq!(whole, data);
}

#[test]
fn messages_fragments_and_interleaved_control_frames_are_read_in_any_cut() {
    let mut bytes = frame(0x81, b"[2,\"1\",\"Heartbeat\",{}]", K);
    bytes.extend(frame(0x01, b"[2,\"2\",", K)); // text, FIN clear
    bytes.extend(frame(0x89, b"ping", K)); // between the fragments
    bytes.extend(frame(0x00, b"\"Heart", K));
    bytes.extend(frame(0x80, b"beat\",{}]", K));
    bytes.extend(frame(0x82, &[0, 1, 2, 255], K));
    bytes.extend(frame(0x8A, b"", K));
    bytes.extend(frame(0x88, b"\x03\xe8bye", K));
    bytes.extend(frame(0x81, b"after the close", K)); // never read
    for chunk in [1, 2, 5, 7, 64, 4096] {
        let (got, _) = rt().block_on(read_all(bytes.clone(), Role::Server, chunk, 1 << 20));
        assert_eq!(
            got,
            vec![
                Ok((Msg::Text("[2,\"1\",\"Heartbeat\",{}]".into()), false)),
                Ok((Msg::Ping(Bytes::from_static(b"ping")), false)),
                Ok((Msg::Text("[2,\"2\",\"Heartbeat\",{}]".into()), true)),
                Ok((Msg::Binary(Bytes::from_static(&[0, 1, 2, 255])), false)),
                Ok((Msg::Pong(Bytes::new()), false)),
                Ok((Msg::Close(Some(CloseFrame::new(1000, "bye"))), false)),
            ],
            "reads of {chunk} bytes"
        );
    }
}

#[test]
fn every_fault_is_found_with_its_close_code() {
    let long_close = [0x03, 0xe8]
        .iter()
        .chain(&[b'a'; 124])
        .copied()
        .collect::<Vec<_>>();
    let cases: Vec<(&str, Role, Vec<u8>, Fault)> = vec![
        (
            "unmasked from the charger",
            Role::Server,
            frame(0x81, b"[]", None),
            UNMASKED,
        ),
        (
            "masked from the CSMS",
            Role::Client,
            frame(0x81, b"[]", K),
            MASKED,
        ),
        ("rsv1", Role::Server, frame(0xC1, b"[]", K), RSV),
        ("rsv3", Role::Client, frame(0x91, b"[]", None), RSV),
        (
            "opcode 3",
            Role::Server,
            frame(0x83, b"[]", K),
            RESERVED_OPCODE,
        ),
        (
            "opcode 0xB",
            Role::Client,
            frame(0x8B, b"", None),
            RESERVED_OPCODE,
        ),
        (
            "lone continuation",
            Role::Server,
            frame(0x80, b"[]", K),
            BAD_CONTINUATION,
        ),
        (
            "text inside a fragmented text",
            Role::Server,
            [frame(0x01, b"[", K), frame(0x81, b"]", K)].concat(),
            BAD_CONTINUATION,
        ),
        (
            "fragmented ping",
            Role::Server,
            frame(0x09, b"", K),
            FRAGMENTED_CONTROL,
        ),
        (
            "126-byte ping",
            Role::Client,
            frame(0x89, &[0; 126], None),
            CONTROL_TOO_BIG,
        ),
        (
            "126-byte close",
            Role::Server,
            frame(0x88, &long_close, K),
            CONTROL_TOO_BIG,
        ),
        (
            "1-byte close",
            Role::Server,
            frame(0x88, b"\x03", K),
            CLOSE_ONE_BYTE,
        ),
        (
            "close 999",
            Role::Server,
            frame(0x88, &[0x03, 0xE7], K),
            BAD_CLOSE_CODE,
        ),
        (
            "close 1005",
            Role::Client,
            frame(0x88, &[0x03, 0xED], None),
            BAD_CLOSE_CODE,
        ),
        (
            "close 1015",
            Role::Client,
            frame(0x88, &[0x03, 0xF7], None),
            BAD_CLOSE_CODE,
        ),
        (
            "close 5000",
            Role::Server,
            frame(0x88, &[0x13, 0x88], K),
            BAD_CLOSE_CODE,
        ),
        (
            "close reason not UTF-8",
            Role::Server,
            frame(0x88, &[0x03, 0xE8, 0xff], K),
            INVALID_UTF8,
        ),
        (
            "text not UTF-8",
            Role::Server,
            frame(0x81, b"[\"\xff\xfe\"]", K),
            INVALID_UTF8,
        ),
        (
            "UTF-8 cut between fragments is fine, invalid at the end is not",
            Role::Client,
            [
                frame(0x01, &"é".as_bytes()[..1], None),
                frame(0x80, b"", None),
            ]
            .concat(),
            INVALID_UTF8,
        ),
        (
            "over the size limit",
            Role::Server,
            frame(0x81, &[b'a'; 1001], K),
            TOO_BIG,
        ),
        (
            "over the size limit in fragments",
            Role::Client,
            [frame(0x02, &[1; 600], None), frame(0x80, &[1; 401], None)].concat(),
            TOO_BIG,
        ),
    ];
    for (name, role, bytes, want) in cases {
        let (got, _) = rt().block_on(read_all(bytes, role, 3, 1000));
        assert_eq!(
            got.last(),
            Some(&Err(format!("{} {}", want.code, want.what))),
            "{name}: {got:?}"
        );
    }
    // The top bit of a 64-bit length, from its header alone.
    let mut head = vec![0x82, 0x80 | 127];
    head.extend_from_slice(&(1u64 << 63).to_be_bytes());
    head.extend_from_slice(&[0; 4]);
    let (h, _) = parse_header(&head).unwrap_or_else(|| panic!("a header"));
    assert_eq!(
        check(&h, Role::Server, false, 0, usize::MAX),
        Err(LENGTH_TOP_BIT)
    );
    // A valid fragmented UTF-8 character split between frames is accepted.
    let e = "é".as_bytes();
    let ok = [frame(0x01, &e[..1], None), frame(0x80, &e[1..], None)].concat();
    let (got, _) = rt().block_on(read_all(ok, Role::Client, 1, 1000));
    assert_eq!(got, vec![Ok((Msg::Text("é".into()), true))]);
}

#[test]
fn codes_that_may_be_sent() {
    for ok in [
        1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999,
    ] {
        assert!(close_code_allowed(ok), "{ok}");
    }
    for bad in [
        0, 999, 1004, 1005, 1006, 1015, 1016, 1999, 2000, 2999, 5000, 65535,
    ] {
        assert!(!close_code_allowed(bad), "{bad}");
    }
}

#[test]
fn a_large_message_leaves_only_the_fixed_buffer_behind() {
    rt().block_on(async {
        let b = budget();
        // Over a real socket on 127.0.0.1.
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut a = tokio::net::TcpStream::connect(l.local_addr().unwrap())
            .await
            .unwrap();
        let (s, _) = l.accept().await.unwrap();
        let big = vec![b'x'; 4 << 20];
        let bytes = [frame(0x81, &big, K), frame(0x81, b"[]", K)].concat();
        let w = tokio::spawn(async move { a.write_all(&bytes).await.map(|()| a) });
        let mut r = Reader::new(s, Role::Server, &[], 4096, 8 << 20, &b);
        let m = r.next().await.unwrap_or_else(|e| panic!("{e}"));
        // The message held budget for its payload beyond the free part while in hand.
        assert_eq!(m.charge.bytes(), (4 << 20) - FREE_PER_MESSAGE);
        assert_eq!(b.in_use(), (4 << 20) - FREE_PER_MESSAGE);
        match &m.msg {
            Msg::Text(t) => {
                assert_eq!(t.len(), 4 << 20);
                assert!(t.as_bytes().iter().all(|&c| c == b'x'));
            }
            other => panic!("{other:?}"),
        }
        drop(m);
        assert_eq!(b.in_use(), 0, "given back when the message is dropped");
        assert_eq!(r.retained(), 4096, "only the fixed read buffer is kept");
        let small = r.next().await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(small.msg, Msg::Text("[]".into()));
        drop(small);
        assert_eq!(r.retained(), 4096);

        // The writer: through the scratch, masked, and nothing large kept afterwards.
        let (o, mut i) = tokio::io::duplex(64 << 10);
        let mut wr = Writer::new(o, Role::Client);
        let msg = Msg::Binary(Bytes::from(big.clone()));
        let reader = tokio::spawn(async move {
            // A client's frames are masked: read them as the CSMS would (a server).
            let mut r = Reader::new(&mut i, Role::Server, &[], 4096, 8 << 20, &budget());
            r.next().await.map(|m| m.msg).map_err(|e| e.to_string())
        });
        wr.send(&msg).await.unwrap_or_else(|e| panic!("{e}"));
        assert!(wr.retained() <= SCRATCH, "{}", wr.retained());
        let back = reader.await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, Ok(msg));
        let _ = w.await;
    });
}

/// Reads all that has arrived so far (polled once, until the reader waits for more; out of
/// tokio's cooperative budget, which would cut a poll short), then dropped as a `select!`
/// would.
fn read_what_came(r: &mut Reader<tokio::io::DuplexStream>) -> Option<Received> {
    use futures_util::FutureExt;
    tokio::task::unconstrained(r.next())
        .now_or_never()
        .map(|m| m.unwrap_or_else(|e| panic!("{e}")))
}

#[test]
fn a_fragmented_message_holds_no_more_memory_than_it_paid_for() {
    rt().block_on(async {
        let b = budget();
        let max = 8 << 20;
        let (mut a, s) = tokio::io::duplex(4 << 20);
        let mut r = Reader::new(s, Role::Server, &[], 4096, max, &b);
        // Fragments of many sizes: tiny ones (the allocation must not move for each), some
        // larger than everything so far, a zero-length one.
        let mut sizes = vec![1usize, 100, 0, 5000, 20_000];
        sizes.extend(std::iter::repeat_n(700, 300));
        sizes.extend([300_000, 3, 1 << 20, 64 << 10]);
        sizes.extend(std::iter::repeat_n(9_999, 40));
        let (mut total, mut moves, mut cap_before) = (0usize, 0, 0usize);
        let mut worst_move = 0;
        for (i, &n) in sizes.iter().enumerate() {
            let op = if i == 0 { 0x02 } else { 0x00 }; // binary, then continuations; FIN clear
            let byte = u8::try_from(i % 251).unwrap();
            a.write_all(&frame(op, &vec![byte; n], K)).await.unwrap();
            assert!(read_what_came(&mut r).is_none(), "not finished yet");
            total += n;
            let m = r.message.as_ref().expect("a message being read");
            let (cap, paid) = (m.data.capacity(), m.charge.bytes());
            assert_eq!(m.data.len(), total);
            // The memory really held is paid for (beyond the free part), and no more is
            // held of the budget than that.
            assert_eq!(
                paid,
                cap.saturating_sub(FREE_PER_MESSAGE),
                "frame {i}: {cap} vs {paid}"
            );
            assert_eq!(
                b.in_use(),
                paid,
                "frame {i}: the move's share was given back"
            );
            assert!(cap <= max);
            if cap != cap_before {
                moves += 1;
                if cap_before > 0 {
                    worst_move =
                        worst_move.max((cap_before + cap).saturating_sub(FREE_PER_MESSAGE));
                }
                cap_before = cap;
            }
        }
        // While the allocation moved, the old block and the new one were both paid for.
        assert!(
            worst_move > 0 && b.peak() >= worst_move,
            "{} < {worst_move}",
            b.peak()
        );
        // Growing by half at least: a few moves, not one per fragment (~350 of them).
        assert!(moves <= 24, "{moves} moves for {} fragments", sizes.len());
        // The last, empty fragment completes it with the same allocation, paid as before.
        a.write_all(&frame(0x80, &[], K)).await.unwrap();
        let got = read_what_came(&mut r).expect("the whole message");
        assert!(got.fragmented);
        assert_eq!(got.charge.bytes(), cap_before - FREE_PER_MESSAGE);
        assert_eq!(b.in_use(), got.charge.bytes());
        let Msg::Binary(data) = &got.msg else {
            panic!("{:?}", got.msg)
        };
        let want: Vec<u8> = sizes
            .iter()
            .enumerate()
            .flat_map(|(i, &n)| std::iter::repeat_n(u8::try_from(i % 251).unwrap(), n))
            .collect();
        assert!(data[..] == want[..], "the payload is exact");
        drop(got);
        assert_eq!(b.in_use(), 0, "all of it given back with the message");
        assert_eq!(r.retained(), 4096);
    });
}

#[test]
fn a_largest_fragmented_message_fits_the_smallest_budget_allowed() {
    // `--in-flight-budget` may be as small as the largest message plus the free part: the
    // move of a message over half of it is paid up to the whole budget, not refused.
    rt().block_on(async {
        let max = 1 << 20;
        let b = Budget::new(max + FREE_PER_MESSAGE, Duration::from_millis(200));
        let (mut a, s) = tokio::io::duplex(2 << 20);
        let half = vec![b'h'; max / 2];
        let bytes = [frame(0x02, &half, K), frame(0x80, &half, K)].concat();
        let w = tokio::spawn(async move { a.write_all(&bytes).await.map(|()| a) });
        let mut r = Reader::new(s, Role::Server, &[], 4096, max, &b);
        let m = tokio::time::timeout(Duration::from_secs(5), r.next())
            .await
            .expect("not hung")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(m.msg, Msg::Binary(Bytes::from(vec![b'h'; max])));
        assert_eq!(m.charge.bytes(), max - FREE_PER_MESSAGE);
        assert!(b.peak() <= b.max());
        drop(m);
        assert_eq!(b.in_use(), 0);
        drop(w);
    });
}

#[test]
fn a_frame_waits_for_budget_then_fails_as_starved() {
    rt().block_on(async {
        let b = Budget::new(FREE_PER_MESSAGE * 2, Duration::from_millis(100));
        assert!(
            b.try_take(FREE_PER_MESSAGE * 2),
            "someone else holds it all"
        );
        let (mut a, s) = tokio::io::duplex(1 << 16);
        let bytes = frame(0x82, &vec![0u8; FREE_PER_MESSAGE + 10], K);
        let w = tokio::spawn(async move { a.write_all(&bytes).await.map(|()| a) });
        let mut r = Reader::new(s, Role::Server, &[], 4096, 1 << 20, &b);
        match r.next().await {
            Err(ReadError::Starved(0)) => {}
            other => panic!("{other:?}"),
        }
        assert!(matches!(r.next().await, Err(ReadError::Ended)));
        drop(w);
    });
}

#[test]
fn a_read_cancelled_mid_frame_loses_nothing() {
    rt().block_on(async {
        let (mut a, s) = tokio::io::duplex(1 << 16);
        let mut r = Reader::new(s, Role::Server, &[], 16, 1 << 20, &budget());
        let bytes = frame(0x81, &[b'y'; 300], K);
        for piece in bytes.chunks(37) {
            a.write_all(piece).await.unwrap_or_else(|e| panic!("{e}"));
            // Polled until it waits for more, then dropped (as a `select!` would).
            let cut = tokio::time::timeout(Duration::from_millis(5), r.next()).await;
            if let Ok(m) = cut {
                let m = m.unwrap_or_else(|e| panic!("{e}"));
                assert_eq!(m.msg, Msg::Text("y".repeat(300).into()));
                return;
            }
        }
        panic!("never completed");
    });
}

#[test]
fn bytes_read_with_the_handshake_come_first() {
    rt().block_on(async {
        let first = frame(0x81, b"[2,\"a\",\"Heartbeat\",{}]", K);
        let second = frame(0x81, b"[2,\"b\",\"Heartbeat\",{}]", K);
        // The handshake's read took the first frame and half of the second.
        let cut = second.len() / 2;
        let ahead = [first, second[..cut].to_vec()].concat();
        let (mut a, s) = tokio::io::duplex(1024);
        a.write_all(&second[cut..]).await.unwrap();
        let mut r = Reader::new(s, Role::Server, &ahead, 16, 1 << 20, &budget());
        for id in ["a", "b"] {
            let m = r.next().await.unwrap_or_else(|e| panic!("{e}"));
            let want = format!("[2,\"{id}\",\"Heartbeat\",{{}}]");
            assert_eq!(m.msg, Msg::Text(want.into()));
        }
    });
}

#[test]
fn a_write_cut_off_is_finished_before_the_next_frame() {
    rt().block_on(async {
        let (o, mut i) = tokio::io::duplex(1000);
        let mut w = Writer::new(o, Role::Server);
        let big = Msg::Binary(Bytes::from(vec![7u8; 50_000]));
        // The peer reads nothing: the write stops partway and is given up.
        let cut = tokio::time::timeout(Duration::from_millis(50), w.send(&big)).await;
        assert!(cut.is_err(), "the write could not finish");
        let reader = tokio::spawn(async move {
            let mut r = Reader::new(&mut i, Role::Client, &[], 4096, 1 << 20, &budget());
            let mut got = Vec::new();
            while let Ok(m) = r.next().await {
                got.push(m.msg);
            }
            got
        });
        w.send(&Msg::Close(None))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        drop(w);
        let got = reader.await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(got, vec![big, Msg::Close(None)]);
    });
}

fn arb_msg() -> impl Strategy<Value = Msg> {
    prop_oneof![
        ".{0,300}".prop_map(|s| Msg::Text(s.into())),
        proptest::collection::vec(any::<u8>(), 0..70_000).prop_map(|v| Msg::Binary(Bytes::from(v))),
        proptest::collection::vec(any::<u8>(), 0..=125).prop_map(|v| Msg::Ping(Bytes::from(v))),
        proptest::collection::vec(any::<u8>(), 0..=125).prop_map(|v| Msg::Pong(Bytes::from(v))),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn what_the_writer_encodes_the_reader_decodes(
        msgs in proptest::collection::vec(arb_msg(), 1..6),
        client in any::<bool>(),
        chunk in 1usize..5000,
    ) {
        // The writer's role, and the reader's (the other end's) opposite.
        let (w_role, r_role) = if client { (Role::Client, Role::Server) } else { (Role::Server, Role::Client) };
        let got = rt().block_on(async {
            let (o, i) = tokio::io::duplex(chunk);
            let mut w = Writer::new(o, w_role);
            let sent = msgs.clone();
            let writer = tokio::spawn(async move {
                for m in &sent {
                    w.send(m).await?;
                }
                w.send(&Msg::Close(Some(CloseFrame::new(4000, "done")))).await
            });
            let mut r = Reader::new(i, r_role, &[], 100, 1 << 20, &budget());
            let mut got = Vec::new();
            while let Ok(m) = r.next().await {
                got.push(m.msg);
            }
            let _ = writer.await;
            got
        });
        let mut want = msgs;
        want.push(Msg::Close(Some(CloseFrame::new(4000, "done"))));
        prop_assert_eq!(got, want);
    }
}
