fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let snaps = hangdoc::parse::load(&args, &Default::default()).unwrap();
    let d = hangdoc::diagnose::diagnose(&snaps, &Default::default());
    let o = hangdoc::report::diagnosis_text::TextOptions {
        style: Default::default(),
        width: 110,
        all: true,
    };
    hangdoc::report::diagnosis_text::write(&mut std::io::stdout(), &d, &o).unwrap();
}
