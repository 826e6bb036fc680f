use hollow::Hollow;

#[derive(Hollow)]
struct Movie {
    #[hollow(key)]
    id: i64,
}

fn main() {}
