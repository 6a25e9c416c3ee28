//! model.md §7 case 4 with current: a particle filled at constant current through its surface
//! (configs/verification/galvanostatic.toml).

mod common;

const KT_EV: f64 = 8.617_333_262e-5 * 298.0;

/// The columns of a run, by name.
type Columns = Vec<Vec<f64>>;

/// Runs the config with overrides; returns (time, soc, voltage, ion balance error) per output
/// row.
fn charge(sets: &[&str]) -> (Columns, tempfile::TempDir) {
    let mut all = vec!["output.images=false"];
    all.extend_from_slice(sets);
    let loaded = common::load("configs/verification/galvanostatic.toml", &all);
    let run = common::run_cpu(&loaded, "galvanostatic run");
    assert_eq!(run.summary.stop, swellfield::output::StopReason::SocTarget);
    let names = ["time", "soc", "voltage", "ion_balance_error"];
    (names.iter().map(|n| run.column(n)).collect(), run.dir)
}

/// Ions added equal the charge passed to round-off at every output, and the state of charge
/// follows c₀ + C-rate · t / 3600 s exactly until the run stops at its target.
#[test]
fn ions_added_equal_charge_passed() {
    let (cols, dir) = charge(&[]);
    let [t, soc, _, balance] = &cols[..] else {
        unreachable!("four columns")
    };
    for i in 0..t.len() {
        assert!(
            balance[i].abs() < 1e-13,
            "row {i}: ion balance error {:e}",
            balance[i]
        );
        // The CSV carries 11 significant digits.
        assert!(
            (soc[i] - (0.02 + 0.1 * t[i] / 3600.0)).abs() < 2e-11,
            "row {i}: soc {} at t = {}",
            soc[i],
            t[i]
        );
    }
    assert!(*soc.last().unwrap() >= 0.95);
    let file = hdf5::File::open(dir.path().join("snapshots.h5")).unwrap();
    let reason = file
        .attr("stop_reason")
        .unwrap()
        .read_scalar::<hdf5::types::VarLenUnicode>()
        .unwrap();
    assert_eq!(reason.as_str(), "soc_target");
}

/// With Ω = 0.10 eV > 2kT the particle is two-phase and the voltage sits on a plateau at U0
/// (0.30 V) between 30 % and 80 % filled, off it by at most the Gibbs–Thomson shift of the
/// minority phase plus 1 mV of reaction overpotential: a circular minority phase of radius r
/// shifts μ by γ/(r Δc) per site (γ the flat interface's energy, Δc the gap), and between SOC 0.3
/// and 0.8 of this 20 nm particle the minority phase is at least 20 nm √0.2 = 8.9 nm across
/// (5.2 mV). Its sign follows the morphology (the Na-rich phase as a cap or as a shell round a
/// shrinking Na-poor core), so the plateau may sit on either side of U0, where the solid
/// solution (Ω = 0, the next test) falls by 57 mV over the same range.
#[test]
fn two_phase_host_shows_a_plateau_at_u0() {
    let (cols, _dir) = charge(&[]);
    let (soc, v) = (&cols[1], &cols[2]);
    let problem = common::problem("configs/verification/galvanostatic.toml", &[]);
    let interface = problem.interface.as_ref().expect("a miscibility gap");
    let gamma = interface.energy(problem.chemistry.kappa);
    let radius = 20.0 * 0.2f64.sqrt() / problem.units.length;
    let bound = KT_EV * gamma / (radius * (interface.c_beta - interface.c_alpha)) + 1e-3;
    let plateau: Vec<f64> = soc
        .iter()
        .zip(v)
        .filter(|(s, _)| (0.3..=0.8).contains(*s))
        .map(|(_, v)| *v)
        .collect();
    assert!(plateau.len() >= 5, "{plateau:?}");
    println!("plateau voltages {plateau:?}, allowed ±{bound:.4} V about U0");
    for v in &plateau {
        assert!((v - 0.30).abs() <= bound, "{v} V against 0.30 ± {bound}");
    }
}

/// With Ω = 0 (a solid solution) the voltage slopes as the regular solution's equilibrium
/// curve V = U0 − (kT/e) ln(c/(1−c)) at this slow rate, within 1 mV at 20 s steps (what is left
/// is the reaction's overpotential, 0.4–0.7 mV), falling monotonically.
#[test]
fn solid_solution_slopes_as_the_regular_solution() {
    let (cols, _dir) = charge(&["materials.host.omega_ev=0.0"]);
    let (soc, v) = (&cols[1], &cols[2]);
    let mut last = f64::INFINITY;
    for (s, v) in soc.iter().zip(v).skip(1) {
        let eq = 0.30 - KT_EV * (s / (1.0 - s)).ln();
        println!("soc {s:.3}: V = {v:.4}, equilibrium {eq:.4}");
        if (0.1..=0.9).contains(s) {
            assert!((v - eq).abs() < 1e-3, "soc {s}: {v} vs {eq}");
        }
        assert!(
            *v < last + 1e-4,
            "the voltage must fall as ions go in: {v} after {last}"
        );
        last = *v;
    }
}

/// Potentiostatic: held at 0.29 V, 10 mV below the plateau, the Na-poor particle fills
/// along its branch until its voltage is the applied one, `U0 − (kT/e) ln(c/(1−c)) −
/// (Ω/e)(1 − 2c) = 0.29 V` (c = 0.0392, short of the spinodal, so it stays single-phase), with
/// the ions accounted for and the voltage column the applied one.
#[test]
fn potentiostatic_hold_settles_on_the_equilibrium_composition() {
    let loaded = common::load(
        "configs/verification/galvanostatic.toml",
        &[
            "output.images=false",
            "drive.mode=\"potentiostatic\"",
            "drive.voltage_v=0.29",
            "drive.soc_target=0.5",
        ],
    );
    let run = common::run_cpu(&loaded, "potentiostatic run");
    let col = |n: &str| run.column(n);
    let (v, balance, c) = (col("voltage"), col("ion_balance_error"), col("mean_c_host"));
    // The root of V_eq(c) = 0.29 V on the Na-poor branch, by bisection.
    let v_eq = |c: f64| 0.30 - KT_EV * (c / (1.0 - c)).ln() - 0.10 * (1.0 - 2.0 * c);
    let (mut lo, mut hi) = (0.02, 0.1);
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if v_eq(mid) > 0.29 { lo = mid } else { hi = mid }
    }
    let c_eq = 0.5 * (lo + hi);
    let last = *c.last().unwrap();
    println!("settled at c = {last:.5}, equilibrium {c_eq:.5}");
    assert!((last - c_eq).abs() < 1e-3, "c = {last} vs {c_eq}");
    for i in 0..run.rows.len() {
        assert!(
            (v[i] - 0.29).abs() < 1e-12 && balance[i].abs() < 1e-12,
            "row {i}: {} {}",
            v[i],
            balance[i]
        );
    }
}
