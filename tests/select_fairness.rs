//! `select!` and `Select` choose uniformly at random among ready cases.

mod common;

use common::runtime;
use gorun::select::Outcome;

/// Pearson's chi-square statistic of `counts` against equal expectations.
fn chi_square(counts: &[u64]) -> f64 {
    let total: u64 = counts.iter().sum();
    let expected = total as f64 / counts.len() as f64;
    counts
        .iter()
        .map(|&c| (c as f64 - expected).powi(2) / expected)
        .sum()
}

// The tests draw fresh random choices every run, so a fair select fails
// each of them with probability p. At p = 0.001 the four tests together
// failed about one CI run in 250 (seen once); at p = 1e-6 that is one in
// 250,000, and with 100,000 selects a case chosen 26% of the time instead
// of 25% still gives a chi-square of about 53, far past either value.

/// The chi-square critical value at p = 1e-6 for 3 degrees of freedom.
const CRITICAL_3_DOF: f64 = 30.66;
/// The chi-square critical value at p = 1e-6 for 1 degree of freedom.
const CRITICAL_1_DOF: f64 = 23.93;

const SELECTS: usize = 100_000;

#[test]
fn four_always_ready_cases_are_chosen_uniformly() {
    runtime(2).block_on(async {
        // A closed channel is always ready.
        let chans: Vec<_> = (0..4).map(|_| gorun::chan::<u32>(0)).collect();
        let rxs: Vec<_> = chans.into_iter().map(|(_, rx)| rx).collect();
        let mut counts = [0u64; 4];
        for _ in 0..SELECTS {
            let i = gorun::select! {
                _ = rxs[0].recv() => 0,
                _ = rxs[1].recv() => 1,
                _ = rxs[2].recv() => 2,
                _ = rxs[3].recv() => 3,
            };
            counts[i] += 1;
        }
        let chi2 = chi_square(&counts);
        assert!(chi2 < CRITICAL_3_DOF, "counts {counts:?}, chi2 {chi2}");
    });
}

#[test]
fn four_cases_with_values_are_chosen_uniformly() {
    runtime(2).block_on(async {
        let chans: Vec<_> = (0..4).map(|_| gorun::chan::<usize>(1)).collect();
        for (i, (tx, _)) in chans.iter().enumerate() {
            tx.try_send(i).unwrap();
        }
        let mut counts = [0u64; 4];
        for _ in 0..SELECTS {
            let v = gorun::select! {
                v = chans[0].1.recv() => v,
                v = chans[1].1.recv() => v,
                v = chans[2].1.recv() => v,
                v = chans[3].1.recv() => v,
            }
            .unwrap();
            counts[v] += 1;
            chans[v].0.try_send(v).unwrap();
        }
        let chi2 = chi_square(&counts);
        assert!(chi2 < CRITICAL_3_DOF, "counts {counts:?}, chi2 {chi2}");
    });
}

#[test]
fn ready_cases_between_unready_ones_are_chosen_uniformly() {
    // A random start with wrap-around would favour case 3 here (3 of 4
    // starting points reach it first).
    runtime(2).block_on(async {
        let (_t0, r0) = gorun::chan::<u32>(0);
        let (t1, r1) = gorun::chan::<u32>(0);
        let (t2, r2) = gorun::chan::<u32>(0);
        let (_t3, r3) = gorun::chan::<u32>(0);
        drop((t1, t2)); // 1 and 2 are closed: always ready.
        let mut counts = [0u64; 2];
        for _ in 0..SELECTS {
            let i = gorun::select! {
                _ = r0.recv() => unreachable!(),
                _ = r1.recv() => 0,
                _ = r2.recv() => 1,
                _ = r3.recv() => unreachable!(),
            };
            counts[i] += 1;
        }
        let chi2 = chi_square(&counts);
        assert!(chi2 < CRITICAL_1_DOF, "counts {counts:?}, chi2 {chi2}");
    });
}

#[test]
fn dynamic_select_chooses_uniformly() {
    runtime(2).block_on(async {
        let chans: Vec<_> = (0..4).map(|_| gorun::chan::<u32>(0)).collect();
        let rxs: Vec<_> = chans.into_iter().map(|(_, rx)| rx).collect();
        let mut sel = gorun::Select::new();
        for rx in &rxs {
            sel.recv(rx);
        }
        let mut counts = [0u64; 4];
        for _ in 0..SELECTS {
            let (i, out) = sel.select().await;
            assert_eq!(out, Outcome::Received(None));
            counts[i] += 1;
        }
        let chi2 = chi_square(&counts);
        assert!(chi2 < CRITICAL_3_DOF, "counts {counts:?}, chi2 {chi2}");
    });
}
