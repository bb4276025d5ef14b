//! `crm completions SHELL` and the hidden `crm generate-man DIR`, both from the clap tree,
//! which the caller (`cli::dispatch`) hands in: this module never reaches up into `cli`.

use clap::{Arg, ArgMatches, Command};

use crate::context::Ctx;
use crate::error::{Error, Result};

pub fn command() -> Command {
    Command::new("completions")
        .about("Print a shell completion script")
        .arg(Arg::new("shell").required(true).value_parser([
            "bash",
            "zsh",
            "fish",
            "elvish",
            "powershell",
        ]))
}

pub fn run(ctx: &mut Ctx, m: &ArgMatches, mut tree: Command) -> Result<()> {
    use clap_complete::Shell;
    let shell: Shell = m
        .get_one::<String>("shell")
        .expect("required")
        .parse()
        .map_err(|e: String| Error::usage(e))?;
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut tree, "crm", &mut buf);
    let _ = ctx;
    crate::output::write_stdout(&buf)
}

pub fn man_command() -> Command {
    Command::new("generate-man")
        .hide(true)
        .about("Write man pages into a directory")
        .arg(Arg::new("dir").required(true))
}

#[allow(clippy::needless_pass_by_value)] // the signature `Run::WithTree` gives every such command
pub fn man(ctx: &mut Ctx, m: &ArgMatches, tree: Command) -> Result<()> {
    let dir = std::path::PathBuf::from(m.get_one::<String>("dir").expect("required"));
    std::fs::create_dir_all(&dir)?;
    let n = write_man_pages(&tree, &dir)?;
    ctx.out
        .msg(&format!("wrote {n} man pages to {}", dir.display()));
    Ok(())
}

/// Renders `crm.1` and one page per visible subcommand (`crm-add.1`, …) of `root` into `dir`.
pub fn write_man_pages(root: &Command, dir: &std::path::Path) -> Result<usize> {
    let mut n = 0;
    let mut render = |cmd: &Command, name: &str| -> Result<()> {
        let mut buf = Vec::new();
        clap_mangen::Man::new(cmd.clone().name(name.to_string())).render(&mut buf)?;
        std::fs::write(dir.join(format!("{name}.1")), buf)?;
        n += 1;
        Ok(())
    };
    render(root, "crm")?;
    for sub in root.get_subcommands().filter(|s| !s.is_hide_set()) {
        render(sub, &format!("crm-{}", sub.get_name()))?;
    }
    Ok(n)
}
