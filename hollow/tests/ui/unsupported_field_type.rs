use hollow::Hollow;

#[derive(Hollow)]
struct Counter {
    id: i64,
    count: u128,
}

fn main() {}
