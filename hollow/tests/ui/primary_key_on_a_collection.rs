use hollow::Hollow;

#[derive(Hollow)]
struct Movie {
    #[hollow(primary_key)]
    tags: Vec<String>,
    title: String,
}

fn main() {}
