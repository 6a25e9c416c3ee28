//! Issue 4's "done when": a config with two solids, pores and a current charges, swells and
//! reports (configs/examples/p2_o3_particle.toml, a P2/O3 particle charged at C/10).

mod common;

/// Twenty minutes of extraction: the ion balance holds, the voltage rises as Na leaves, both
/// phases contract (their eigenstrain falls with c from the Na-full reference), P2 much more
/// than O3 along its collapsing c-axis, and every reported quantity is finite.
#[test]
fn p2_o3_particle_charges_and_contracts() {
    let loaded = common::load(
        "configs/examples/p2_o3_particle.toml",
        &[
            "time.end=1200",
            "output.interval=300",
            "output.images=false",
        ],
    );
    let run = common::run_cpu(&loaded, "the example runs");
    let (rows, col) = (&run.rows, |n: &str| run.column(n));
    let (soc, v, balance) = (col("soc"), col("voltage"), col("ion_balance_error"));
    let (sw, sw_p2, sw_o3) = (col("swelling"), col("swelling_p2"), col("swelling_o3"));
    let last = rows.len() - 1;
    assert!(
        soc[last] < soc[0] - 0.02,
        "Na must leave: soc {} -> {}",
        soc[0],
        soc[last]
    );
    for i in 1..=last {
        assert!(
            balance[i].abs() < 1e-12,
            "row {i}: ion balance {}",
            balance[i]
        );
        assert!(v[i] > 3.1 && v[i] < 3.5, "row {i}: voltage {}", v[i]);
        assert!(
            rows[i].iter().all(|x| x.is_finite() || x.is_nan()),
            "row {i}"
        );
    }
    assert!(
        v[last] > v[1],
        "the voltage rises as Na leaves: {} -> {}",
        v[1],
        v[last]
    );
    assert!(
        sw[last] < sw[0] && sw_p2[last] < 0.0 && sw_o3[last] < 0.0,
        "contraction: {sw:?} {sw_p2:?} {sw_o3:?}"
    );
    assert!(
        sw_p2[last] < sw_o3[last],
        "P2 contracts more than O3: {} vs {}",
        sw_p2[last],
        sw_o3[last]
    );
    let file = hdf5::File::open(run.dir.path().join("snapshots.h5")).unwrap();
    for name in [
        "static/phi_p2",
        "static/phi_o3",
        "static/material",
        "static/site_density",
        "fields/stress_xx",
        "fields/von_mises",
        "fields/volumetric_strain",
    ] {
        assert!(file.dataset(name).is_ok(), "{name} missing");
    }
}
