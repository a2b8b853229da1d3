// Starts `infrac lsp` for .inf files.
const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const config = vscode.workspace.getConfiguration("infrac");
  const bookUrl = config.get("bookUrl");
  client = new LanguageClient(
    "infrac",
    "infrac",
    { command: config.get("path") || "infrac", args: ["lsp"] },
    {
      documentSelector: [{ language: "infrac" }],
      initializationOptions: bookUrl ? { bookUrl } : {},
    }
  );
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
