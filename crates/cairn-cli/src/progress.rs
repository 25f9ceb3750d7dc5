//! Progress on stderr for a terminal: a spinner naming the current step and a bar per
//! download. Hidden when stderr is not a terminal, with `-q`, or with `-O json`.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal as _;
use std::time::Duration;

pub struct CliProgress {
    bar: ProgressBar,
    quiet: bool,
}

impl CliProgress {
    pub fn new(quiet: bool) -> Self {
        let visible =
            !quiet && std::io::stderr().is_terminal() && std::env::var_os("NO_PROGRESS").is_none();
        let bar = if visible {
            let b = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            b.set_style(
                ProgressStyle::with_template("{spinner} {msg} {bytes}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            b.enable_steady_tick(Duration::from_millis(120));
            b
        } else {
            ProgressBar::hidden()
        };
        CliProgress { bar, quiet }
    }
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
    /// `what done/total: item`, for commands that work through a list.
    pub fn item(&self, what: &str, done: usize, total: usize, item: &str) {
        self.bar
            .set_message(format!("{what} {done}/{total}: {item}"));
    }
}

impl cairn_fetch::Reporter for CliProgress {
    fn on_start(&self, url: &url::Url, total: Option<u64>) {
        self.bar.set_message(format!("downloading {url}"));
        self.bar.set_position(0);
        if let Some(t) = total {
            self.bar.set_length(t);
        }
    }
    fn on_progress(&self, _url: &url::Url, bytes: u64) {
        self.bar.set_position(bytes);
    }
    fn update_started(&self, source: &str) {
        self.bar.set_message(format!("apt-get update ({source})"));
    }
    fn download_started(&self, source: &str, count: usize) {
        self.bar
            .set_message(format!("downloading {count} packages from {source}"));
    }
}

impl cairn_project::Progress for CliProgress {
    fn phase(&self, what: &str) {
        self.bar.set_message(what.to_owned());
    }
}

impl cairn_build::BuildReporter for CliProgress {
    fn phase(&self, image: &str, phase: &str) {
        self.bar.set_message(format!("{image}: {phase}"));
    }
    fn progress(&self, image: &str, done: u64, total: u64, item: &str) {
        self.bar
            .set_message(format!("{image}: {done}/{total} {item}"));
    }
    fn note(&self, image: &str, text: &str) {
        if !self.quiet {
            self.bar.suspend(|| eprintln!("note: {image}: {text}"));
        }
    }
}
