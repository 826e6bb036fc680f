//! The gatekeeper's model types derive their hollow schemas (`#[derive(Hollow)]`); the JSON
//! dataset schemas under `schemas/` stay the wire contract. The two must be the same schema,
//! type for type and field for field (names, kinds, order, primary keys, compression), or a
//! producer writing from JSON and a consumer reading through the derived views would disagree.

use gatekeeper::inputs::Dataset;
use gatekeeper::model::{Asset, Country, Localization, Rating, Right, Title, Video};
use hollow::typed::schema_for;
use hollow::SchemaSet;

fn derived(d: Dataset) -> SchemaSet {
    match d {
        Dataset::Countries => schema_for::<Country>(),
        Dataset::Titles => schema_for::<Title>(),
        Dataset::Videos => schema_for::<Video>(),
        Dataset::Rights => schema_for::<Right>(),
        Dataset::Assets => schema_for::<Asset>(),
        Dataset::Localizations => schema_for::<Localization>(),
        Dataset::Ratings => schema_for::<Rating>(),
    }
    .unwrap_or_else(|e| panic!("the derived schema of {d}: {e}"))
}

#[test]
fn derived_schemas_equal_the_schema_files() {
    for d in Dataset::ALL {
        let file = d.schema().unwrap().schema_set().unwrap();
        assert_eq!(
            derived(d).types(),
            file.types(),
            "the schema derived from the model type of {d} differs from schemas/{d}.json"
        );
    }
}

#[test]
fn the_stored_liveness_record_equals_the_output_schema_file() {
    let file = gatekeeper::output::schema().unwrap().schema_set().unwrap();
    let derived = schema_for::<gatekeeper::output::LivenessRecord>().unwrap();
    assert_eq!(derived.types(), file.types());
}

#[test]
fn a_state_of_another_schema_is_refused_naming_the_field() {
    // a titles state whose `release_year` is a string: the engine's typed open refuses it
    use hollow::blob::{write_snapshot, SnapshotOptions};
    use hollow::{FieldKind, Primitive, ReadState, TypeSchema, WriteState};
    let mut types: Vec<TypeSchema> = derived(Dataset::Titles).types().to_vec();
    for t in &mut types {
        if let TypeSchema::Object(o) = t {
            if o.name == "Title" {
                for f in &mut o.fields {
                    if f.name == "release_year" {
                        f.kind = FieldKind::Primitive(Primitive::String);
                    }
                }
            }
        }
    }
    let ws = WriteState::new(SchemaSet::new(types).unwrap());
    let state =
        ReadState::from_vec(write_snapshot(&ws, &SnapshotOptions::default()).unwrap().0).unwrap();
    let e = state.typed::<Title>().unwrap_err().to_string();
    assert!(e.contains("release_year"), "{e}");
}
