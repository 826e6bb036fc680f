use hollow::Hollow;

#[derive(Hollow)]
enum Status {
    Ready,
    Failed(String),
}

fn main() {}
