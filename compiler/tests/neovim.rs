//! The book's Neovim configuration (`book/src/editors.md`, its `lua`
//! block, taken as a new user copies it into `init.lua`) driving the
//! built `infrac lsp` in a headless Neovim: an unsafe program gets the
//! data-exposed diagnostic on its port's line, hover says why, and the
//! code action fixes it. Skipped when `nvim` is not installed (Debian's
//! package is 0.7, which the page promises to work on).

use crate::common;

use std::path::Path;
use std::process::Command;

use common::*;

const PROGRAM: &str = "service db {\n  image = \"redis:7.4\"\n  port 6379 public\n}\n";

/// Runs once the buffer is open: waits for the diagnostics, hovers on the
/// port, applies the first code action, and writes what it saw.
const SCRIPT: &str = r#"
local out = io.open(vim.env.INFRAC_RESULT, "w")
local function has(code)
  for _, d in ipairs(vim.diagnostic.get(0)) do
    if tostring(d.code) == code then return d end
  end
end
vim.wait(60000, function() return has("E2001") ~= nil end, 50)
out:write("filetype " .. vim.bo.filetype .. "\n")
local d = has("E2001")
if d then
  out:write(string.format("E2001 %d:%d\n", d.lnum + 1, d.col + 1))
  out:write("virtual " .. vim.diagnostic.config().virtual_text.format(d) .. "\n")
end
local uri = vim.uri_from_bufnr(0)
local function request(method, params)
  for _, r in pairs(vim.lsp.buf_request_sync(0, method, params, 20000) or {}) do
    return r.result
  end
end
local hover = request("textDocument/hover",
  { textDocument = { uri = uri }, position = { line = 2, character = 8 } })
if hover then out:write("hover " .. hover.contents.value:gsub("\n", " ") .. "\n") end
local actions = request("textDocument/codeAction", { textDocument = { uri = uri },
  range = { start = { line = 2, character = 12 }, ["end"] = { line = 2, character = 18 } },
  context = { diagnostics = {} } }) or {}
for _, a in ipairs(actions) do out:write("action " .. a.title .. "\n") end
if actions[1] and actions[1].edit then
  vim.lsp.util.apply_workspace_edit(actions[1].edit, "utf-16")
  vim.wait(60000, function() return has("E2001") == nil end, 50)
  out:write("fixed " .. tostring(has("E2001") == nil) .. " "
    .. vim.api.nvim_buf_get_lines(0, 2, 3, false)[1] .. "\n")
end
out:close()
vim.cmd("qa!")
"#;

/// The first fenced `lua` block of the editors page.
fn page_config() -> String {
    let page = read(&root().join("book/src/editors.md"));
    let start = page.find("```lua\n").expect("a lua block") + "```lua\n".len();
    let len = page[start..].find("```").expect("closed");
    page[start..start + len].to_string()
}

#[test]
fn the_books_neovim_configuration_finds_and_fixes_the_exposed_port() {
    if Command::new("nvim").arg("--version").output().is_err() {
        eprintln!("skipped: no nvim");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    std::fs::create_dir_all(home.join("config/nvim")).unwrap();
    std::fs::write(home.join("config/nvim/init.lua"), page_config()).unwrap();
    std::fs::write(home.join("check.lua"), SCRIPT).unwrap();
    std::fs::create_dir_all(home.join("project")).unwrap();
    std::fs::write(home.join("project/main.inf"), PROGRAM).unwrap();
    // `infrac` on the PATH, as the page asks: the binary under test.
    let bin = Path::new(env!("CARGO_BIN_EXE_infrac")).parent().unwrap();
    let path = std::env::join_paths(std::iter::once(bin.to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    let result = home.join("result.txt");
    let run = Command::new("nvim")
        .args(["--headless", "main.inf", "-c"])
        .arg(format!("luafile {}", home.join("check.lua").display()))
        .current_dir(home.join("project"))
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("PATH", path)
        .env("INFRAC_RESULT", &result)
        .output()
        .unwrap();
    let seen = std::fs::read_to_string(&result).unwrap_or_else(|_| {
        panic!(
            "nvim wrote nothing: {}\n{}",
            String::from_utf8_lossy(&run.stdout),
            String::from_utf8_lossy(&run.stderr)
        )
    });
    let lines: Vec<&str> = seen.lines().collect();
    assert!(lines.contains(&"filetype infrac"), "{seen}");
    // The port's level, line 3 column 13.
    assert!(lines.contains(&"E2001 3:13"), "{seen}");
    assert!(
        lines.contains(&"virtual data service `db` is reachable beyond its networks: port 6379 is effectively public"),
        "{seen}"
    );
    assert!(
        seen.contains("hover **port 6379/tcp** of `db`") && seen.contains("effective: `public`"),
        "{seen}"
    );
    assert!(
        lines.contains(&"action Make port 6379 `internal`"),
        "{seen}"
    );
    assert!(lines.contains(&"fixed true   port 6379 internal"), "{seen}");
}
