//! Golden files: every example, built for every target, is snapshotted
//! under `snapshots/examples/<name>/<target>.snap`, and building twice
//! gives the same bytes.

mod common;

use common::*;
use infrac::backend::Target;

#[test]
fn examples_build_for_every_target_as_snapshotted() {
    for (name, path) in examples() {
        let text = read(&path);
        for target in Target::ALL {
            let file = format!("examples/{name}/main.inf");
            let (artifacts, diagnostics) = build(&file, &text, *target);
            let errors: Vec<_> = diagnostics.iter().filter(|d| d.is_error()).collect();
            assert!(
                errors.is_empty(),
                "{name} for {}: {errors:?}",
                target.name()
            );
            let mut doc = String::new();
            for a in &artifacts {
                doc.push_str(&format!("==> {} <==\n{}", a.path.display(), a.contents));
            }
            let again = build(&file, &text, *target).0;
            assert_eq!(
                artifacts,
                again,
                "{name} for {} is not deterministic",
                target.name()
            );
            let mut settings = insta::Settings::clone_current();
            settings.set_snapshot_path(root().join("snapshots/examples").join(&name));
            settings.set_prepend_module_to_snapshot(false);
            settings.set_omit_expression(true);
            settings.bind(|| insta::assert_snapshot!(target.name(), doc));
        }
    }
}
