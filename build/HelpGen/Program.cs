using Ceso.Build.HelpGen;

// helpgen --docs <docsdir> --out <outdir>: exit 0 when written, 1 when a document is incomplete, 2 on bad usage.
string? docs = null;
string? output = null;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--docs" when i + 1 < args.Length:
            docs = args[++i];
            break;
        case "--out" when i + 1 < args.Length:
            output = args[++i];
            break;
        default:
            docs = output = null;
            i = args.Length;
            break;
    }
}

if (docs is null || output is null)
{
    Console.Error.WriteLine("usage: HelpGen --docs <docs folder with en-US/*.md and about_*.md> --out <module en-US folder>");
    return 2;
}

try
{
    foreach (var file in HelpGenerator.Generate(docs, output))
    {
        Console.WriteLine($"wrote {file}");
    }

    return 0;
}
catch (HelpDocException e)
{
    Console.Error.WriteLine($"HelpGen: {e.Message}");
    return 1;
}
