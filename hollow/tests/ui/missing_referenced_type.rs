use hollow::Hollow;

struct Person {
    name: String,
}

#[derive(Hollow)]
struct Movie {
    id: i64,
    director: Person,
}

fn main() {
    let _ = Person { name: String::new() }.name;
}
