namespace Ceso.Build.HelpGen;

/// <summary>
/// Builds a module's compiled help from its docs folder: <c>&lt;docs&gt;/en-US/*.md</c> (one per cmdlet) into one MAML
/// file, and every <c>&lt;docs&gt;/about_*.md</c> into <c>about_*.help.txt</c>. Nothing is written unless every
/// document is complete.
/// </summary>
public static class HelpGenerator
{
    /// <summary>The MAML file name Get-Help looks for next to a binary module's culture folder.</summary>
    public const string MamlFileName = "Ceso.PowerShell.dll-Help.xml";

    /// <summary>Reads and checks every cmdlet help file of a culture folder, sorted by name.</summary>
    public static IReadOnlyList<CmdletHelp> ReadCmdlets(string cultureDirectory, List<HelpDocProblem> problems)
    {
        var files = Directory.Exists(cultureDirectory)
            ? Directory.GetFiles(cultureDirectory, "*.md").Order(StringComparer.Ordinal).ToList()
            : [];
        if (files.Count == 0)
        {
            problems.Add(new HelpDocProblem(cultureDirectory, "files", "no cmdlet help files (*.md) found."));
        }

        return files.Select(f => CmdletHelpParser.Parse(f, File.ReadAllText(f), problems)).OfType<CmdletHelp>().ToList();
    }

    /// <summary>Writes the help files; returns their paths. Throws <see cref="HelpDocException"/> listing every problem.</summary>
    /// <param name="docsDirectory">The folder holding <c>en-US/</c> and <c>about_*.md</c>.</param>
    /// <param name="outputDirectory">Where the help files go (a module's <c>en-US</c> folder); created when missing.</param>
    public static IReadOnlyList<string> Generate(string docsDirectory, string outputDirectory)
    {
        var problems = new List<HelpDocProblem>();
        var cmdlets = ReadCmdlets(Path.Combine(docsDirectory, "en-US"), problems);

        var abouts = new List<(string Name, string Text)>();
        var aboutFiles = Directory.Exists(docsDirectory) ? Directory.GetFiles(docsDirectory, "about_*.md").Order(StringComparer.Ordinal).ToList() : [];
        if (aboutFiles.Count == 0)
        {
            problems.Add(new HelpDocProblem(docsDirectory, "files", "no about topic (about_*.md) found."));
        }

        foreach (var file in aboutFiles)
        {
            try
            {
                abouts.Add((Path.GetFileNameWithoutExtension(file) + ".help.txt", AboutHelpWriter.ToText(file, File.ReadAllText(file))));
            }
            catch (HelpDocException e)
            {
                problems.AddRange(e.Problems);
            }
        }

        if (problems.Count > 0)
        {
            throw new HelpDocException(problems);
        }

        Directory.CreateDirectory(outputDirectory);
        var written = new List<string>();
        var maml = Path.Combine(outputDirectory, MamlFileName);
        MamlWriter.Save(MamlWriter.ToMaml(cmdlets), maml);
        written.Add(maml);
        foreach (var (name, text) in abouts)
        {
            var path = Path.Combine(outputDirectory, name);
            File.WriteAllText(path, text);
            written.Add(path);
        }

        return written;
    }
}
