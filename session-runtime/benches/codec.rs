//! Seal and open for each mode and size, the AEAD implementations side by side, and the
//! nonce sources. `cargo bench -p session-runtime --bench codec`; see BENCHMARKS.md.

use std::hint::black_box;
use std::time::Duration;

use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{BenchmarkId, Criterion, Throughput};
use session_runtime::EncryptionMode;
use session_runtime::codec::compress::{self, Dictionary, PreparedDictionary};
use session_runtime::codec::{Codec, CodecOptions, KeyRing, Timestamps, modern};

const SIZES: [usize; 5] = [64, 200, 1024, 4096, 16384];
const TIMES: Timestamps = Timestamps {
    issued_at: 1_700_000_000,
    expires_at: 1_700_003_600,
};

/// A session-like JSON object of about `len` bytes: a user, a CSRF token, preferences, then
/// cart lines until the size is reached.
fn session_json(len: usize) -> Vec<u8> {
    let mut out = String::from(r#"{"u":"ada@example.com","csrf":"Zm9vYmFyYmF6cXV4cXV1eA""#);
    let mut i = 0;
    if out.len() + 40 < len {
        out.push_str(r#","theme":"dark","locale":"en-GB""#);
    }
    let mut cart = String::new();
    while out.len() + cart.len() + 60 < len {
        if !cart.is_empty() {
            cart.push(',');
        }
        cart.push_str(&format!(
            r#"{{"sku":"SKU-{:05}","qty":{},"price":{}.{:02}}}"#,
            (i * 7919) % 100_000,
            1 + i % 3,
            3 + (i * 13) % 90,
            (i * 37) % 100
        ));
        i += 1;
    }
    if !cart.is_empty() {
        out.push_str(",\"cart\":[");
        out.push_str(&cart);
        out.push(']');
    }
    out.push_str(",\"n\":\"");
    while out.len() + 2 < len {
        out.push('x');
    }
    out.push_str("\"}");
    out.into_bytes()
}

fn codec(mode: EncryptionMode, level: i32) -> Codec {
    let keys =
        KeyRing::from_secrets([b"benchmark secret, thirty-two bytes long at least"]).unwrap();
    let mut options = CodecOptions::new(mode, "session");
    options.compression_level = level;
    // Room for the 16 KiB bodies (a session that large only fits chunked or server-side).
    options.max_value_len = 64 * 1024;
    Codec::new(&keys, options).unwrap()
}

fn mode_name(mode: EncryptionMode, level: i32) -> String {
    if level == 0 {
        mode.as_str().to_owned()
    } else {
        format!("{}+zstd{}", mode.as_str(), level)
    }
}

fn bench_codec<M: Measurement>(c: &mut Criterion<M>) {
    let configs = [
        (EncryptionMode::Modern, 0),
        (EncryptionMode::None, 0),
        (EncryptionMode::Legacy, 0),
        (EncryptionMode::Modern, 3),
        (EncryptionMode::None, 3),
    ];
    for op in ["seal", "open"] {
        let mut group = c.benchmark_group(op);
        for &(mode, level) in &configs {
            let codec = codec(mode, level);
            for size in SIZES {
                let body = session_json(size);
                group.throughput(Throughput::Bytes(size as u64));
                let id = BenchmarkId::new(mode_name(mode, level), size);
                if op == "seal" {
                    group.bench_function(id, |b| {
                        b.iter(|| codec.seal(black_box(&body), TIMES).unwrap())
                    });
                } else {
                    let value = codec.seal(&body, TIMES).unwrap();
                    group.bench_function(id, |b| b.iter(|| codec.open(black_box(&value)).unwrap()));
                }
            }
        }
        group.finish();
    }

    let mut group = c.benchmark_group("seal+open");
    for mode in [
        EncryptionMode::Modern,
        EncryptionMode::None,
        EncryptionMode::Legacy,
    ] {
        let codec = codec(mode, 0);
        let body = session_json(200);
        group.bench_function(BenchmarkId::new(mode.as_str(), 200), |b| {
            b.iter(|| {
                let value = codec.seal(black_box(&body), TIMES).unwrap();
                codec.open(&value).unwrap()
            })
        });
    }
    group.finish();
}

/// XChaCha20-Poly1305 encryption in place, ours (HChaCha20 + ring) against the
/// `chacha20poly1305` crate, same key, nonce and associated data.
fn bench_aead<M: Measurement>(c: &mut Criterion<M>) {
    let key = [0x42u8; 32];
    let nonce = [0x24u8; 24];
    let aad = b"\x01\x00\x01\x02\x03session";
    let reference = XChaCha20Poly1305::new((&key).into());
    let mut group = c.benchmark_group("xchacha20poly1305-seal");
    for size in [64usize, 200, 1024] {
        let mut buf = vec![0x61u8; size];
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_function(BenchmarkId::new("hchacha20+ring", size), |b| {
            b.iter(|| modern::xchacha20poly1305_seal(&key, &nonce, aad, black_box(&mut buf)))
        });
        group.bench_function(BenchmarkId::new("chacha20poly1305-crate", size), |b| {
            b.iter(|| {
                reference
                    .encrypt_in_place_detached(XNonce::from_slice(&nonce), aad, black_box(&mut buf))
                    .unwrap()
            })
        });
    }
    group.finish();
}

/// 24 nonce bytes from each candidate source.
fn bench_nonce<M: Measurement>(c: &mut Criterion<M>) {
    let mut group = c.benchmark_group("nonce-24B");
    group.bench_function("getrandom::fill", |b| {
        b.iter(|| {
            let mut nonce = [0u8; 24];
            getrandom::fill(&mut nonce).unwrap();
            nonce
        })
    });
    let system = ring::rand::SystemRandom::new();
    group.bench_function("ring::rand::SystemRandom", |b| {
        b.iter(|| {
            let mut nonce = [0u8; 24];
            ring::rand::SecureRandom::fill(&system, &mut nonce).unwrap();
            nonce
        })
    });
    group.bench_function("rand::rng (thread-local ChaCha12)", |b| {
        b.iter(|| {
            let mut nonce = [0u8; 24];
            rand::RngCore::fill_bytes(&mut rand::rng(), &mut nonce);
            nonce
        })
    });
    group.finish();
}

/// The calling thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`), in nanoseconds.
///
/// On a machine shared with other work, wall time counts the time the benchmark thread
/// waits for a core; CPU time does not. Chosen with `CODEC_BENCH_CLOCK=thread-cpu`.
#[cfg(unix)]
struct ThreadCpuTime;

#[cfg(unix)]
fn thread_cpu_ns() -> u64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64
}

#[cfg(unix)]
impl Measurement for ThreadCpuTime {
    type Intermediate = u64;
    type Value = u64;

    fn start(&self) -> u64 {
        thread_cpu_ns()
    }
    fn end(&self, start: u64) -> u64 {
        thread_cpu_ns().saturating_sub(start)
    }
    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }
    fn zero(&self) -> u64 {
        0
    }
    fn to_f64(&self, value: &u64) -> f64 {
        *value as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        &Nanoseconds
    }
}

/// Formats nanosecond values as ns, µs or ms, and byte throughput as MiB/s.
struct Nanoseconds;

impl ValueFormatter for Nanoseconds {
    fn scale_values(&self, typical: f64, values: &mut [f64]) -> &'static str {
        let (divisor, unit) = if typical < 1e3 {
            (1.0, "ns")
        } else if typical < 1e6 {
            (1e3, "µs")
        } else {
            (1e6, "ms")
        };
        values.iter_mut().for_each(|v| *v /= divisor);
        unit
    }

    fn scale_throughputs(
        &self,
        _typical: f64,
        throughput: &Throughput,
        values: &mut [f64],
    ) -> &'static str {
        match *throughput {
            Throughput::Bytes(bytes) | Throughput::BytesDecimal(bytes) => {
                values
                    .iter_mut()
                    .for_each(|v| *v = bytes as f64 * 1e9 / *v / (1024.0 * 1024.0));
                "MiB/s"
            }
            Throughput::Elements(n) => {
                values.iter_mut().for_each(|v| *v = n as f64 * 1e9 / *v);
                "elem/s"
            }
        }
    }

    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "ns"
    }
}

/// zstd dictionaries on the synthetic shop corpus (`session_test_support::session_corpus`): the sizes
/// per bucket (printed, not timed), seal+open with and without a dictionary, and whether the
/// dictionary path should keep a compression context per thread or make one per call.
fn bench_dictionary<M: Measurement>(c: &mut Criterion<M>) {
    use session_test_support::session_corpus::{BUCKETS, corpus};

    let training = corpus(1, 2000, 150, 2048);
    let held_out = corpus(99, 1000, 150, 2048);
    let bytes = zstd::dict::from_samples(&training, 16 * 1024).unwrap();
    let dictionary = Dictionary::from(bytes.clone());
    let keys =
        KeyRing::from_secrets([b"benchmark secret, thirty-two bytes long at least"]).unwrap();
    let make = |level: i32, dictionary: Option<&Dictionary>| {
        let mut options = CodecOptions::new(EncryptionMode::Modern, "session");
        options.compression_level = level;
        options.compression_dictionary = dictionary.cloned();
        Codec::new(&keys, options).unwrap()
    };
    let variants = [
        ("modern", make(0, None)),
        ("modern+zstd1", make(1, None)),
        ("modern+zstd3", make(3, None)),
        ("modern+zstd1+dict", make(1, Some(&dictionary))),
        ("modern+zstd3+dict", make(3, Some(&dictionary))),
    ];

    // Sizes: each held-out session compressed alone, kept only when smaller (as seal does),
    // and the cookie value's length.
    println!(
        "dictionary sizes: 16 KiB dictionary from 2000 sessions, {} held-out sessions",
        held_out.len()
    );
    println!(
        "bucket | n | body | zstd1 | zstd3 | zstd1+dict | zstd3+dict | value: plain / zstd3 / zstd3+dict"
    );
    let prepared = [1, 3].map(|level| PreparedDictionary::new(&dictionary, level).unwrap());
    for &(label, min, max) in BUCKETS {
        let bodies: Vec<&Vec<u8>> = held_out
            .iter()
            .filter(|s| (min..=max).contains(&s.len()))
            .collect();
        let total = |f: &dyn Fn(&[u8]) -> usize| bodies.iter().map(|b| f(b)).sum::<usize>();
        let body = total(&|b| b.len());
        let plain = |level| {
            total(&|b| {
                compress::compress(b, level)
                    .unwrap()
                    .map_or(b.len(), |f| f.len())
            })
        };
        let dict = |p: &PreparedDictionary| {
            total(&|b| {
                compress::compress_with_dictionary(b, p)
                    .unwrap()
                    .map_or(b.len(), |f| f.len())
            })
        };
        let value = |codec: &Codec| total(&|b| codec.seal(b, TIMES).unwrap().len());
        let (z1, z3, d1, d3) = (plain(1), plain(3), dict(&prepared[0]), dict(&prepared[1]));
        let ratio = |n: usize| body as f64 / n as f64;
        println!(
            "{label} | {} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {} / {} / {}",
            bodies.len(),
            body / bodies.len(),
            ratio(z1),
            ratio(z3),
            ratio(d1),
            ratio(d3),
            value(&variants[0].1) / bodies.len(),
            value(&variants[2].1) / bodies.len(),
            value(&variants[4].1) / bodies.len(),
        );
    }

    // One representative session per bucket: the held-out one closest to its middle.
    let mut group = c.benchmark_group("dictionary-seal+open");
    for &(_, min, max) in BUCKETS {
        let middle = (min + max) / 2;
        let body = held_out
            .iter()
            .min_by_key(|s| s.len().abs_diff(middle))
            .unwrap();
        group.throughput(Throughput::Bytes(body.len() as u64));
        for (name, codec) in &variants {
            group.bench_function(BenchmarkId::new(*name, body.len()), |b| {
                b.iter(|| {
                    let value = codec.seal(black_box(body), TIMES).unwrap();
                    codec.open(&value).unwrap()
                })
            });
        }
    }
    group.finish();

    // A context per thread (what compress.rs does) against one per call, both with the
    // dictionary prepared once.
    let body = held_out
        .iter()
        .min_by_key(|s| s.len().abs_diff(750))
        .unwrap();
    let encoder = zstd::dict::EncoderDictionary::copy(&bytes, 3);
    let decoder = zstd::dict::DecoderDictionary::copy(&bytes);
    let frame = compress::compress_with_dictionary(body, &prepared[1])
        .unwrap()
        .unwrap();
    let mut group = c.benchmark_group("dictionary-context");
    group.bench_function(BenchmarkId::new("compress/thread-local", body.len()), |b| {
        b.iter(|| compress::compress_with_dictionary(black_box(body), &prepared[1]).unwrap())
    });
    group.bench_function(BenchmarkId::new("compress/per-call", body.len()), |b| {
        b.iter(|| {
            zstd::bulk::Compressor::with_prepared_dictionary(&encoder)
                .unwrap()
                .compress(black_box(body))
                .unwrap()
        })
    });
    group.bench_function(
        BenchmarkId::new("decompress/thread-local", body.len()),
        |b| {
            b.iter(|| {
                compress::decompress_with_dictionary(black_box(&frame), 64 * 1024, &prepared[1])
                    .unwrap()
            })
        },
    );
    group.bench_function(BenchmarkId::new("decompress/per-call", body.len()), |b| {
        b.iter(|| {
            zstd::bulk::Decompressor::with_prepared_dictionary(&decoder)
                .unwrap()
                .decompress(black_box(&frame), 64 * 1024)
                .unwrap()
        })
    });
    group.finish();
}

fn run<M: Measurement>(mut c: Criterion<M>) {
    bench_nonce(&mut c);
    bench_aead(&mut c);
    bench_codec(&mut c);
    bench_dictionary(&mut c);
    c.final_summary();
}

fn main() {
    let thread_cpu = std::env::var("CODEC_BENCH_CLOCK").is_ok_and(|v| v == "thread-cpu");
    let base = |c: Criterion<WallTime>| {
        c.warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(3))
            .configure_from_args()
    };
    #[cfg(unix)]
    if thread_cpu {
        run(base(Criterion::default()).with_measurement(ThreadCpuTime));
        return;
    }
    #[cfg(not(unix))]
    let _ = thread_cpu;
    run(base(Criterion::default()));
}
