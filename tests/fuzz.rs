//! Hostile bytes and arguments: seeded mutation loops (stable Rust has no `cargo fuzz`) over the
//! model loader and the recommender's API, and the planted cases found by an outside fuzzer,
//! each kept as a regression test.
//!
//! The mutants are structure-aware: each mutates the core or extras section and re-seals it
//! with a valid checksum ([`format::write`]), so the decoder and the checks behind it are what
//! is tested, not the checksum. `./build.sh test` runs a bounded number of cases;
//! `./build.sh fuzz --minutes N` runs them for N minutes (`MOVIE_RECS_FUZZ_MINUTES`) and writes
//! any input that panics to `tests/fixtures/fuzz/`, which the regression test below replays.

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use movie_recs::format::{self, Header, Section, HEADER_LEN};
use movie_recs::matching::Wanted;
use movie_recs::{Error, FactorStorage, Method, MovieId, RawRating, RecommendOptions, Recommender};

/// Counts the heap this test thread holds, and its peak, so that the memory a mutant costs to
/// load and exercise is measured exactly (resident memory would add the fuzzer's own buffers and
/// the allocator's slack).
mod heap {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    pub struct Counting;

    thread_local! {
        static HELD: Cell<usize> = const { Cell::new(0) };
        static PEAK: Cell<usize> = const { Cell::new(0) };
    }

    fn grow(n: usize) {
        let _ = HELD.try_with(|h| {
            let now = h.get() + n;
            h.set(now);
            let _ = PEAK.try_with(|p| p.set(p.get().max(now)));
        });
    }

    fn shrink(n: usize) {
        let _ = HELD.try_with(|h| h.set(h.get().saturating_sub(n)));
    }

    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            grow(layout.size());
            unsafe { System.alloc(layout) }
        }
        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            grow(layout.size());
            unsafe { System.alloc_zeroed(layout) }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            shrink(layout.size());
            unsafe { System.dealloc(ptr, layout) }
        }
        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            grow(new_size);
            shrink(layout.size());
            unsafe { System.realloc(ptr, layout, new_size) }
        }
    }

    /// Bytes this thread holds now.
    pub fn held() -> usize {
        HELD.with(|h| h.get())
    }

    /// Runs `f` and returns its result with the most bytes it held at once beyond what was held
    /// before.
    pub fn peak_of<T>(f: impl FnOnce() -> T) -> (T, usize) {
        let before = held();
        PEAK.with(|p| p.set(before));
        let out = f();
        (out, PEAK.with(|p| p.get()) - before)
    }
}

#[global_allocator]
static HEAP: heap::Counting = heap::Counting;

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Values at the edges of what the format's integers can claim.
const BOUNDARIES: [u64; 16] = [0, 1, 2, 7, 8, 255, 256, 1023, 1024, 1025, 1 << 16, 1 << 24, 1 << 31, (1 << 32) - 1, 1 << 32, u64::MAX];

fn varint(mut v: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return out;
        }
        out.push(b | 0x80);
    }
}

fn read_varint(b: &[u8], at: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *b.get(*at)?;
        *at += 1;
        v |= ((byte & 0x7f) as u64) << shift;
        if byte & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

/// The sections of a model file: core, links, stars, extras.
fn sections(file: &[u8]) -> [Vec<u8>; 4] {
    let h = Header::require(file).unwrap();
    [Section::Core, Section::Links, Section::Stars, Section::Extras].map(|s| h.section(file, s).unwrap().to_vec())
}

/// A model file of `sections`, each with a valid checksum.
fn write(sections: &[Vec<u8>; 4]) -> Vec<u8> {
    format::write(sections.each_ref().map(Vec::as_slice))
}

/// One random structure-aware mutation of `section`.
fn mutate(rng: &mut Rng, section: &mut Vec<u8>) {
    let len = section.len().max(1);
    match rng.below(7) {
        // Flip a bit.
        0 if !section.is_empty() => {
            let i = rng.below(len);
            section[i] ^= 1 << rng.below(8);
        }
        // A random byte.
        1 if !section.is_empty() => {
            let i = rng.below(len);
            section[i] = rng.next() as u8;
        }
        // A boundary value planted as a varint over what was there (a length, a shape, an id).
        2 | 3 => {
            let i = rng.below(len).min(section.len());
            let mut at = i;
            let end = read_varint(section, &mut at).map_or(i, |_| at);
            let v = BOUNDARIES[rng.below(BOUNDARIES.len())];
            section.splice(i..end, varint(v));
        }
        // A boundary f32 over four bytes (a weight, a scale, a factor).
        4 if section.len() >= 4 => {
            let i = rng.below(section.len() - 3);
            let v = [f32::MAX, -f32::MAX, 3.0e38, 1.0e30, f32::NAN, f32::INFINITY, 0.0, -1.0, 1.0e-40][rng.below(9)];
            section[i..i + 4].copy_from_slice(&v.to_le_bytes());
        }
        // Cut or repeat a stretch.
        5 => {
            let i = rng.below(len).min(section.len());
            let n = rng.below(64).min(section.len() - i);
            section.drain(i..i + n);
        }
        _ => {
            let i = rng.below(len).min(section.len());
            let n = rng.below(64).min(section.len() - i);
            let copy: Vec<u8> = section[i..i + n].to_vec();
            section.splice(i..i, copy);
        }
    }
}

/// What one loaded mutant is asked, as the page would ask it.
fn exercise(rec: &Recommender, rng: &mut Rng) {
    let movies = &rec.model().catalogue.movies;
    let some_id = |rng: &mut Rng| if movies.is_empty() { 1 } else { movies[rng.below(movies.len())].id.0 };
    let ratings: Vec<RawRating> = (0..rng.below(8))
        .map(|_| RawRating { movie_id: some_id(rng) as f64, rating: 0.5 + rng.below(10) as f64 / 2.0, seen: false })
        .collect();
    for method in rec.methods() {
        let _ = rec.recommend(&ratings, &RecommendOptions { method: method.name, count: 10, ..RecommendOptions::default() });
    }
    let _ = rec.similar_movies(MovieId(some_id(rng)), 5, None);
    let _ = rec.search("the", 5);
    let _ = rec.popular(5);
}

/// Runs mutants of `seed_files` until `cases` are done or `budget` is spent; panics with the
/// offending file (after writing it to `tests/fixtures/fuzz/` when `keep`) on a panic.
fn run_mutants(seed_files: &[Vec<u8>], seed: u64, cases: usize, budget: Duration, keep: bool) -> Run {
    let mut rng = Rng(seed);
    let started = Instant::now();
    let (mut done, mut loaded, mut slowest, mut peak_heap) = (0, 0, Duration::ZERO, 0);
    let mut over_100ms = 0;
    let sections: Vec<[Vec<u8>; 4]> = seed_files.iter().map(|f| sections(f)).collect();
    while done < cases && started.elapsed() < budget {
        // The fixtures (small, every storage) most of the time; the default model (3 MB, each
        // load a few milliseconds) one case in sixteen.
        let pick = if sections.len() > 3 && rng.below(16) == 0 { 3 } else { rng.below(sections.len().min(3)) };
        let mut parts = sections[pick].clone();
        for _ in 0..1 + rng.below(3) {
            let [core, links, stars, extras] = &mut parts;
            match rng.below(7) {
                0 | 1 => mutate(&mut rng, extras),
                2 => mutate(&mut rng, stars),
                3 => mutate(&mut rng, links),
                _ => mutate(&mut rng, core),
            }
        }
        let file = write(&parts);
        let t = Instant::now();
        let (outcome, heap) = heap::peak_of(|| {
            catch_unwind(AssertUnwindSafe(|| {
                let mut r = Rng(rng.0 ^ 0x9e37);
                match Recommender::from_bytes(&file) {
                    Ok(rec) => {
                        exercise(&rec, &mut r);
                        true
                    }
                    Err(e) => {
                        assert!(!e.to_string().contains("Serde Deserialization Error"), "a vague error: {e}");
                        false
                    }
                }
            }))
        });
        peak_heap = peak_heap.max(heap);
        slowest = slowest.max(t.elapsed());
        over_100ms += (t.elapsed() > Duration::from_millis(100)) as usize;
        match outcome {
            Ok(ok) => loaded += ok as usize,
            Err(_) => {
                let path = format!("{}/tests/fixtures/fuzz/crash-{seed}-{done}.bin", env!("CARGO_MANIFEST_DIR"));
                if keep {
                    std::fs::create_dir_all(format!("{}/tests/fixtures/fuzz", env!("CARGO_MANIFEST_DIR"))).unwrap();
                    std::fs::write(&path, &file).unwrap();
                }
                panic!("mutant {done} of seed {seed} panicked{}", if keep { format!("; kept as {path}") } else { String::new() });
            }
        }
        done += 1;
    }
    if over_100ms > 0 {
        println!("{over_100ms} mutants took over 100 ms to load and exercise");
    }
    Run { done, loaded, slowest, peak_heap }
}

/// What a run of mutants did: cases run, cases that loaded, the slowest case, and the most heap
/// one case held at once while loading and exercising (the input file not counted).
struct Run {
    done: usize,
    loaded: usize,
    slowest: Duration,
    peak_heap: usize,
}

/// The fixture model in each storage, and (when present) the committed default model.
fn seed_files() -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = [FactorStorage::F32, FactorStorage::Int8, FactorStorage::Int4]
        .iter()
        .map(|&s| common::model_stored(s).to_bytes().unwrap())
        .collect();
    if let Ok(committed) = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/www/model.bin")) {
        out.push(committed);
    }
    out
}

fn minutes() -> Option<f64> {
    std::env::var("MOVIE_RECS_FUZZ_MINUTES").ok().and_then(|m| m.parse().ok())
}

#[test]
fn checksum_valid_mutants_never_panic() {
    let files = seed_files();
    let (cases, budget, keep) = match minutes() {
        Some(m) => (usize::MAX, Duration::from_secs_f64(m * 60.0), true),
        None => (1500, Duration::from_secs(3600), false),
    };
    let seed = std::env::var("MOVIE_RECS_FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x5eed);
    // The memory target is relative to what the largest seed (the default model when present)
    // holds once loaded.
    let loaded_model = files.iter().map(|f| {
        let before = heap::held();
        let rec = Recommender::from_bytes(f).expect("every seed loads");
        let held = heap::held() - before;
        drop(rec);
        held
    });
    let loaded_model = loaded_model.max().unwrap_or(1);
    let t = Instant::now();
    let Run { done, loaded, slowest, peak_heap } = run_mutants(&files, seed, cases, budget, keep);
    let secs = t.elapsed().as_secs_f64();
    println!(
        "model mutants: {done} in {secs:.1} s ({:.0} a second), {loaded} loaded, {} clean errors, slowest {:.1} ms, peak memory {:.0} MiB",
        done as f64 / secs,
        done - loaded,
        slowest.as_secs_f64() * 1e3,
        peak_mib().unwrap_or(f64::NAN)
    );
    let mib = |b: usize| b as f64 / (1 << 20) as f64;
    println!(
        "heap: the largest seed holds {:.1} MiB loaded; the most one mutant held while loading and exercised is {:.1} MiB ({:.2}x)",
        mib(loaded_model),
        mib(peak_heap),
        peak_heap as f64 / loaded_model as f64
    );
    assert!(done >= 1500.min(cases), "ran {done}");
    assert!(loaded > 0 && loaded < done, "some mutants load, some are refused: {loaded} of {done}");
}

#[test]
fn kept_failing_inputs_load_or_fail_cleanly() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/fuzz");
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let bytes = std::fs::read(entry.path()).unwrap();
        let result = catch_unwind(|| Recommender::from_bytes(&bytes).map(|r| exercise(&r, &mut Rng(1))));
        assert!(result.is_ok(), "{} panics", entry.path().display());
    }
}

// ---- The planted cases, each a regression test ----

/// Where each factor matrix of `section` starts and ends: `(start, end, variant)`, found by
/// its shape (`rows`, and any of `cols`).
fn matrices(section: &[u8], rows: usize, cols: &[usize]) -> Vec<Place> {
    let mut out = Vec::new();
    for start in 0..section.len() {
        let mut at = start;
        let Some(variant) = read_varint(section, &mut at).filter(|&v| v <= 2) else { continue };
        if read_varint(section, &mut at) != Some(rows as u64) {
            continue;
        }
        let Some(c) = read_varint(section, &mut at).filter(|&c| cols.contains(&(c as usize))) else { continue };
        let c = c as usize;
        // The vectors that follow must be exactly as the variant lays them out.
        let mut skip = |unit: usize, expect: Option<usize>| -> Option<()> {
            let n = read_varint(section, &mut at)? as usize;
            if expect.is_some_and(|e| e != n) {
                return None;
            }
            at = at.checked_add(n.checked_mul(unit)?)?;
            (at <= section.len()).then_some(())
        };
        let ok = match variant {
            0 => skip(4, Some(rows * c)),
            1 => skip(4, Some(rows)).and_then(|_| skip(1, Some(rows * c))),
            _ => skip(1, Some(rows.div_ceil(8))).and_then(|_| skip(1, None)).and_then(|_| skip(1, None)),
        };
        if ok.is_some() {
            out.push((start, at, variant));
        }
    }
    out
}

/// An int4 matrix of `rows x cols` with no row stored: one bit a row in the file.
fn empty_int4(rows: u64, cols: u64) -> Vec<u8> {
    // Beyond the format's bound the mask is left empty: the shape alone must be refused (a
    // 512 MB mask would only slow the test down).
    let mask = if rows > 4_000_000 { 0 } else { rows.div_ceil(8) };
    let mut out = vec![2];
    out.extend(varint(rows));
    out.extend(varint(cols));
    out.extend(varint(mask));
    out.extend(std::iter::repeat_n(0u8, mask as usize));
    out.extend([0, 0]);
    out
}

/// A factor matrix's place in a section: `(start, end, variant)`.
type Place = (usize, usize, u64);

/// The fixture in int4, its sections, the places of its (explicit, implicit) factor matrices
/// (`(section, place)`: the explicit in the stars section, the implicit in the core), and its
/// movie count.
fn fixture_sections() -> ([Vec<u8>; 4], [(usize, Place); 2], usize) {
    static MODEL: std::sync::OnceLock<movie_recs::Model> = std::sync::OnceLock::new();
    // The shipped layout: the ranking does not read the star model, so it has a section of its own.
    let model = MODEL.get_or_init(|| {
        let mut m = common::model_stored(FactorStorage::Int4);
        m.mf.implicit.as_mut().unwrap().explicit_weight = 0.0;
        m
    });
    let n = model.catalogue.len();
    let cols = [model.mf.explicit.as_ref().unwrap().item_factors.cols(), model.mf.implicit.as_ref().unwrap().item_factors.cols()];
    let sections = sections(&model.to_bytes().unwrap());
    let (in_stars, in_core) = (matrices(&sections[2], n, &cols), matrices(&sections[0], n, &cols));
    assert_eq!(
        (in_stars.len(), in_core.len()),
        (1, 1),
        "explicit factors in the stars section, implicit in the core: {in_stars:?} {in_core:?}"
    );
    (sections, [(2, in_stars[0]), (0, in_core[0])], n)
}

fn load_planted(sections: &[Vec<u8>; 4]) -> Result<(), Error> {
    let file = write(sections);
    let rec = catch_unwind(AssertUnwindSafe(|| Recommender::from_bytes(&file))).expect("never panics")?;
    catch_unwind(AssertUnwindSafe(|| rec.recommend(&[], &RecommendOptions::default()).map(|_| ()))).expect("recommend never panics")
}

/// The fixture with factor matrix `which` (0 explicit, 1 implicit) replaced by `with`.
fn plant(which: usize, with: Vec<u8>) -> Result<(), Error> {
    let (mut sections, found, _) = fixture_sections();
    let (section, (start, end, _)) = found[which];
    sections[section].splice(start..end, with);
    load_planted(&sections)
}

fn planted(which: usize, rows: u64, cols: u64) -> Result<(), Error> {
    plant(which, empty_int4(rows, cols))
}

#[test]
fn planted_factor_shapes_are_errors_that_name_the_field() {
    let (_, _, n) = fixture_sections();
    let n = n as u64;
    for (which, rows, cols, says) in [
        (0, n, 1 << 31, "2147483648 columns"),
        (1, n, 1 << 31, "2147483648 columns"),
        (1, n, 1 << 24, "16777216 columns"),
        (1, n, 1024, "at most 256"),
        (0, n, 4096, "4096 columns"),
        (0, (1 << 32) - 1, 8, "4294967295 rows"),
        (1, 1 << 21, 64, "movies but 2097152 implicit factor rows"),
        // 4 million rows of 200 would be 3.2 GB as f32; held as empty rows it is 16 MB, and refused.
        (0, 4_000_000, 200, "4000000 explicit factor rows"),
    ] {
        let t = Instant::now();
        let e = planted(which, rows, cols).expect_err("a planted shape is refused");
        assert!(e.to_string().contains(says), "{rows} x {cols} in matrix {which}: {e}");
        println!("{rows} x {cols} refused in {:.1} ms: {e}", t.elapsed().as_secs_f64() * 1e3);
    }
}

#[test]
fn finite_but_absurd_floats_are_refused() {
    let model = common::model_stored(FactorStorage::Int4);
    let refused = |change: &dyn Fn(&mut movie_recs::Model), says: &str| {
        let mut m = model.clone();
        change(&mut m);
        let e = catch_unwind(AssertUnwindSafe(|| Recommender::from_bytes(&m.to_bytes().unwrap()))).expect("never panics").unwrap_err();
        assert!(e.to_string().contains(says), "{says}: {e}");
    };
    refused(&|m| m.mf.implicit.as_mut().unwrap().alpha = 3.4e38, "implicit alpha is 340000000000000000000000000000000000000");
    refused(&|m| m.extras.item_knn.as_mut().unwrap().max_similarity = 3.4e38, "item_knn similarity scale");
    refused(&|m| m.hybrid.buckets[2].0[0] = 3.4e38, "hybrid weights");
    refused(&|m| m.mf.explicit.as_mut().unwrap().item_bias[3] = -3.0e38, "item bias of row 3");
    refused(&|m| m.catalogue.movies[0].rating_mean = 1e9, "mean rating");
}

#[test]
fn junk_after_a_section_and_a_too_long_file_are_named() {
    for (i, name) in ["core", "links", "stars", "extras"].into_iter().enumerate() {
        let mut sections = sections(&common::model().to_bytes().unwrap());
        sections[i].extend_from_slice(b"junk");
        let e = Recommender::from_bytes(&write(&sections)).unwrap_err();
        assert!(e.to_string().contains(&format!("the {name} section has 4 bytes after its content")), "{e}");
    }
    let mut file = common::model().to_bytes().unwrap();
    file.extend_from_slice(b"more");
    let e = Recommender::from_bytes(&file).unwrap_err();
    assert!(matches!(e, Error::TooLong { .. }), "{e}");
    assert!(e.to_string().contains("longer than"), "{e}");
}

#[test]
fn extras_of_another_model_are_refused() {
    let file = common::model().to_bytes().unwrap();
    let mut other = common::model();
    other.info.dataset = "another".into();
    let other = other.to_bytes().unwrap();
    let core_end = movie_recs::Model::core_length(&file).unwrap().unwrap();
    let mut rec = Recommender::from_core_bytes(&file[..core_end]).unwrap();
    let e = rec.attach_extras(&other).unwrap_err();
    assert!(matches!(e, Error::OtherModel { .. }), "{e}");
    assert!(!rec.model().has_extras(), "left as it was");
    rec.attach_extras(&file).unwrap();
    assert!(rec.model().has_extras());
}

#[test]
fn a_shape_mismatch_keeps_its_detail() {
    let (_, _, n) = fixture_sections();
    // A mask one byte short: the int4 check's own message, not "Serde Deserialization Error".
    let mut bad = empty_int4(n as u64, 4);
    let mask_len_at = 1 + varint(n as u64).len() + 1;
    bad[mask_len_at] -= 1;
    bad.remove(mask_len_at + 1);
    let e = plant(0, bad).unwrap_err();
    assert!(e.to_string().contains("row mask"), "{e}");
}

// ---- The API with hostile arguments ----

/// Peak resident memory of this process so far (Linux), in MiB.
fn peak_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    Some(line.split_whitespace().nth(1)?.parse::<f64>().ok()? / 1024.0)
}

#[test]
fn hostile_api_calls_never_panic() {
    // At length, on the default model (the one a visitor meets); in CI, on the fixture.
    let committed = minutes().and_then(|_| std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/www/model.bin")).ok());
    let fixture = committed.is_none().then(common::model);
    let before = heap::held();
    let rec = match (&committed, fixture) {
        (Some(bytes), _) => Recommender::from_bytes(bytes).expect("the default model loads"),
        (None, fixture) => Recommender::new(fixture.expect("the fixture when there is no default model")),
    };
    let loaded_model = heap::held().saturating_sub(before).max(1);
    drop(committed);
    let mut peak_heap = 0;
    let ids: Vec<u32> = rec.model().catalogue.movies.iter().map(|m| m.id.0).collect();
    let mut rng = Rng(7);
    let calls = if minutes().is_some() { 100_000 } else { 3_000 };
    let odd = [f64::NAN, f64::INFINITY, -1.0, 0.5, 318.9, 4294967296.0 + 318.0, 1e300, -0.0, 5.0, 2.5];
    let t = Instant::now();
    let (mut slowest, mut over_100ms) = (Duration::ZERO, 0);
    for i in 0..calls {
        let call = Instant::now();
        let (r, heap) = heap::peak_of(|| {
            catch_unwind(AssertUnwindSafe(|| match i % 5 {
                0 => {
                    let n = [0, 1, 3, 50, 5000][rng.below(5)];
                    let ratings: Vec<RawRating> = (0..n)
                        .map(|_| RawRating {
                            movie_id: if rng.below(3) == 0 { odd[rng.below(odd.len())] } else { ids[rng.below(ids.len())] as f64 },
                            rating: if rng.below(3) == 0 { odd[rng.below(odd.len())] } else { 0.5 + rng.below(10) as f64 / 2.0 },
                            seen: rng.below(4) == 0,
                        })
                        .collect();
                    let options = RecommendOptions {
                        count: [0, 1, 10, 1000, usize::MAX][rng.below(5)],
                        genres: if rng.below(4) == 0 { vec!["Nope".into()] } else { Vec::new() },
                        year_min: [None, Some(0), Some(1990), Some(u16::MAX)][rng.below(4)],
                        year_max: [None, Some(0), Some(1980), Some(u16::MAX)][rng.below(4)],
                        method: Method::ALL[rng.below(Method::ALL.len())],
                        exclude: (0..rng.below(4) * 50)
                            .map(|_| if rng.below(2) == 0 { ids[rng.below(ids.len())] } else { rng.below(1 << 20) as u32 })
                            .collect(),
                        discover: [0.0, 0.3, 1.0, -0.5, f32::NAN, f32::INFINITY][rng.below(6)],
                    };
                    let _ = rec.recommend(&ratings, &options);
                }
                1 => {
                    let len = [0, 1, 10, 200, 10_000, 1_000_000][rng.below(6)];
                    let word = ["a ", "the ", "é", "\u{0}", "💥", "star wars ", " "][rng.below(7)];
                    let q: String = word.repeat(len / word.len() + 1);
                    let _ = rec.search(&q, [0, 10, usize::MAX][rng.below(3)]);
                }
                2 => {
                    let _ = rec.similar_movies(MovieId(rng.next() as u32 % 200), [0, 5, usize::MAX][rng.below(3)], None);
                }
                3 => {
                    let _ = rec.movie(MovieId(rng.next() as u32));
                }
                4 if rng.below(2) == 0 => {
                    // Import rows: ids anywhere in range, titles of every shape, years near and far.
                    let n = [0, 1, 50, 2_000][rng.below(4)];
                    let word = ["the ", "Matrix, The", "é", "\u{0}", "💥", "(", "a.k.a. ", ": ", ""][rng.below(9)];
                    let rows: Vec<Wanted> = (0..n)
                        .map(|_| Wanted {
                            imdb_id: (rng.below(2) == 0).then(|| rng.next() as u32),
                            tmdb_id: (rng.below(3) == 0).then(|| rng.next() as u32),
                            title: (rng.below(5) != 0).then(|| word.repeat(rng.below(40))),
                            original_title: (rng.below(4) == 0).then(|| word.repeat(rng.below(400))),
                            year: [None, Some(0), Some(1995), Some(u16::MAX)][rng.below(4)],
                        })
                        .collect();
                    let _ = rec.match_movies(&rows);
                }
                _ if rng.below(2) == 0 => {
                    // First-minute questions: ratings and "haven't seen it" ids of every shape.
                    let ratings: Vec<RawRating> = (0..[0, 3, 500][rng.below(3)])
                        .map(|_| RawRating {
                            movie_id: odd[rng.below(odd.len())].abs().min(400.0).floor(),
                            rating: odd[rng.below(odd.len())],
                            seen: rng.below(4) == 0,
                        })
                        .collect();
                    let unseen: Vec<u32> = (0..[0, 5, 5_000][rng.below(3)]).map(|_| rng.next() as u32 % 500).collect();
                    let _ = rec.questions(&rec.fold_in(&ratings), &unseen, [0, 1, 8, 100, 101, usize::MAX][rng.below(6)]);
                    // Movie night with 0 to 9 members of those ratings.
                    let members = vec![ratings.clone(); rng.below(10)];
                    let aggregation = movie_recs::group::Aggregation::ALL[rng.below(3)];
                    let _ = rec.recommend_group(
                        &members,
                        &RecommendOptions { count: [0, 10, 1000][rng.below(3)], ..Default::default() },
                        aggregation,
                    );
                }
                _ => {
                    let _ = rec.popular([0, 8, usize::MAX][rng.below(3)]);
                }
            }))
        });
        peak_heap = peak_heap.max(heap);
        assert!(r.is_ok(), "call {i} panicked");
        slowest = slowest.max(call.elapsed());
        over_100ms += (call.elapsed() > Duration::from_millis(100)) as usize;
    }
    println!(
        "hostile API calls on the {} model: {calls} in {:.1} s ({:.0} a second), slowest {:.1} ms, {over_100ms} over 100 ms, peak memory {:.0} MiB",
        if minutes().is_some() { "default" } else { "fixture" },
        t.elapsed().as_secs_f64(),
        calls as f64 / t.elapsed().as_secs_f64(),
        slowest.as_secs_f64() * 1e3,
        peak_mib().unwrap_or(f64::NAN)
    );
    println!(
        "heap: the model holds {:.1} MiB loaded; the most one call held beyond it, its arguments included, is {:.1} MiB ({:.2}x)",
        loaded_model as f64 / (1 << 20) as f64,
        peak_heap as f64 / (1 << 20) as f64,
        peak_heap as f64 / loaded_model as f64
    );
}

#[test]
fn skipped_ratings_are_counted_and_capped() {
    let rec = Recommender::new(common::model());
    let bad: Vec<RawRating> = (0..100_000).map(|i| RawRating { movie_id: -(i as f64), rating: 3.0, seen: false }).collect();
    let out = rec.recommend(&bad, &RecommendOptions::default()).unwrap();
    assert_eq!(out.skipped_count, 100_000);
    assert_eq!(out.skipped.len(), movie_recs::recommender::MAX_REPORTED_SKIPS);
}

#[test]
fn a_long_query_counts_only_its_first_characters() {
    let rec = Recommender::new(common::model());
    let title = &rec.model().catalogue.movies[0].title;
    let word = title.split_whitespace().next().unwrap().to_string();
    let long = format!("{word} {}", "zzzz ".repeat(100_000));
    // Past the first 200 characters the words are ignored, so the query still finds the movie
    // only if those words were not counted.
    let padded = format!("{word}{}", " ".repeat(300)) + "zzzz";
    assert!(!rec.search(&padded, 10).is_empty(), "words after the first 200 characters are ignored");
    assert!(rec.search(&long, 10).is_empty(), "words within them count");
    let _ = HEADER_LEN;
}
