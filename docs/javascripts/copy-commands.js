/*
 * Make the copy button of a console or pycon block copy only what a reader
 * types: the commands, without their prompts and without the output.
 *
 * Material for MkDocs copies the text of the block's <code> element, unless
 * the button carries a data-clipboard-text attribute (clipboard.js, which
 * Material uses, copies that text instead). A click listener in the capture
 * phase runs before clipboard.js's own listener, so it can set the attribute
 * just in time. Because the listener sits on the document, which instant
 * loading keeps, it also serves pages loaded through instant navigation, and
 * it needs no document$ subscription.
 *
 * A console block is split into commands as the page runner splits it
 * (tests/docrunner/parsing.py): a command starts on a line beginning with
 * "$ " and goes on to the next line while a line ends with a backslash. A
 * here-document runs to its terminator line, matched as bash matches it.
 * Every other line is output. A pycon block keeps the source lines of its
 * doctest examples.
 */
(function () {
  "use strict";

  if (window.copyCommandsInstalled) {
    return;
  }
  window.copyCommandsInstalled = true;

  var PROMPT = "$ ";
  // A here-document operator and its delimiter word: <<EOF, <<-EOF, <<'EOF'.
  // A here-string (<<<) is not one.
  var HEREDOC = /(?<!<)<<(?!<)(-?)\s*(['"]?)([A-Za-z_][A-Za-z0-9_]*)\2/g;
  // A placeholder for a removed annotation marker, so that the blanks before
  // the marker can be removed too. Code text never contains U+0000.
  var ANNOTATION = "\u0000";
  var BLANKS_BEFORE_ANNOTATION = /[ \t]*\u0000/g;

  // The here-documents that a command opens, in order. Bash ends one at the
  // first line equal to its delimiter, after leading tabs are removed if the
  // operator is <<-.
  function heredocs(command) {
    var found = [];
    var match;
    HEREDOC.lastIndex = 0;
    while ((match = HEREDOC.exec(command)) !== null) {
      found.push({ delimiter: match[3], stripTabs: match[1] === "-" });
    }
    return found;
  }

  function endsHeredoc(line, heredoc) {
    var text = heredoc.stripTabs ? line.replace(/^\t+/, "") : line;
    return text === heredoc.delimiter;
  }

  function consoleCommands(lines) {
    var commands = [];
    var index = 0;
    while (index < lines.length) {
      if (!lines[index].startsWith(PROMPT)) {
        index += 1;
        continue;
      }
      var command = [lines[index].slice(PROMPT.length)];
      index += 1;
      while (command[command.length - 1].endsWith("\\") && index < lines.length) {
        command.push(lines[index]);
        index += 1;
      }
      heredocs(command.join("\n")).forEach(function (heredoc) {
        while (index < lines.length) {
          var line = lines[index];
          command.push(line);
          index += 1;
          if (endsHeredoc(line, heredoc)) {
            break;
          }
        }
      });
      commands.push(command.join("\n"));
    }
    return commands;
  }

  // The source lines of a doctest session: ">>> " starts an example, and
  // "... " lines right after it continue it. Other lines are output.
  function pythonSource(lines) {
    var source = [];
    var inExample = false;
    lines.forEach(function (line) {
      if (line === ">>>" || line.startsWith(">>> ")) {
        source.push(line.slice(4));
        inExample = true;
      } else if (inExample && (line === "..." || line.startsWith("... "))) {
        source.push(line.slice(4));
      } else {
        inExample = false;
      }
    });
    return source;
  }

  // The block's text as the reader sees it, without the numbered markers and
  // the notes of code annotations, which Material inserts into the block,
  // and without the blanks that separated a marker from the command.
  function visibleText(code) {
    var copy = code.cloneNode(true);
    copy.querySelectorAll(".md-annotation").forEach(function (marker) {
      marker.replaceWith(ANNOTATION);
    });
    return copy.textContent.replace(BLANKS_BEFORE_ANNOTATION, "");
  }

  // The lines to copy from a block, or null for a block of another language.
  function commandsOf(code) {
    var lines = visibleText(code).split("\n");
    if (code.closest(".language-console")) {
      return consoleCommands(lines);
    }
    if (code.closest(".language-pycon")) {
      return pythonSource(lines);
    }
    return null;
  }

  document.addEventListener(
    "click",
    function (event) {
      var button = event.target.closest("[data-clipboard-target]");
      if (button === null) {
        return;
      }
      var code = document.querySelector(button.getAttribute("data-clipboard-target"));
      if (code === null) {
        return;
      }
      var commands = commandsOf(code);
      // A block without a single prompt is copied as it is.
      if (commands !== null && commands.length > 0) {
        button.setAttribute("data-clipboard-text", commands.join("\n"));
      }
    },
    true
  );
})();
