use hollow::Hollow;

#[derive(Hollow)]
struct Movie {
    #[hollow(primary_key)]
    #[hollow(primary_key)]
    id: i64,
    title: String,
}

fn main() {}
