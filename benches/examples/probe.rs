struct Instant(u64);
impl Instant {
    fn now() -> Self { Instant(cpu_ns()) }
    fn elapsed(&self) -> std::time::Duration { std::time::Duration::from_nanos(cpu_ns() - self.0) }
}
fn cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat").unwrap().split_whitespace().next().unwrap().parse().unwrap()
}
use benches::*;
use hollow::{ReadState, Value};
fn main() {
    for name in ["assets", "rights", "ratings", "localizations"] {
        let schema = dataset_schema(name);
        let path = format!("/tmp/snaps/{name}.snap");
        let st = ReadState::open(std::path::Path::new(&path), hollow::OpenOptions::heap()).unwrap();
        let root = st.object(&schema.type_name).unwrap();
        let cols = root.columns().to_vec();
        let n = root.len() as f64;
        let mut best = [f64::MAX; 3];
        for _ in 0..5 {
            let t = Instant::now();
            let mut a = 0u64;
            for o in root.ordinals() { for c in &cols { a = a.wrapping_add(match c.get(o).unwrap() { Value::I64(x) => x as u64, Value::Str(s) => s.len() as u64, _ => 1 }); } }
            best[0] = best[0].min(t.elapsed().as_nanos() as f64 / n); std::hint::black_box(a);
            let t = Instant::now();
            let mut a = 0u64;
            for o in root.ordinals() { for c in &cols { a = a.wrapping_add(c.raw(o).unwrap_or(1)); } }
            best[2] = best[2].min(t.elapsed().as_nanos() as f64 / n); std::hint::black_box(a);
        }
        println!("{name}: row-major get {:.1} ns/rec, cursor get {:.1}, raw {:.1}", best[0], best[1], best[2]);
    }
}
