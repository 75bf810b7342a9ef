using Ceso.Engine.Soap;
using Ceso.Engine.Ssh;

namespace Ceso.Engine.Hosts;

/// <summary>
/// Everything a session does on its host, chosen once by one transport rule (<see cref="For"/>): the inventory that
/// answers reads, the commands plans are built from, and the datastore files. Made by the session factory; plans and
/// operations take what they need from here and never choose a transport themselves.
/// </summary>
public sealed class HostAdapter
{
    private HostAdapter(string server, IHostInventory inventory, IHostCommands commands, IHostFiles files, FreeLicense license, SshSession? ssh)
    {
        Server = server;
        Inventory = inventory;
        Commands = commands;
        Files = files;
        FreeLicense = license;
        Ssh = ssh;
    }

    /// <summary>The host's name as given (for messages).</summary>
    public string Server { get; }

    /// <summary>
    /// The session's SSH shell, or null without SSH: for the disk block readers and writers
    /// (<see cref="DiskIo.DiskBlockIo"/>), whose bulk streams run on ssh processes of their own.
    /// </summary>
    public SshSession? Ssh { get; }

    /// <summary>Whether the host's python runs the disk helper scripts; learnt once per session (<see cref="DiskIo.DiskBlockIo"/>).</summary>
    internal DiskIo.HostPython Python { get; } = new();

    /// <summary>Reads: VMs, datastores, networks, the host.</summary>
    public IHostInventory Inventory { get; }

    /// <summary>Changes on the host that plans are made of.</summary>
    public IHostCommands Commands { get; }

    /// <summary>Files on the host's datastores (ranged read streams, stream writes).</summary>
    public IHostFiles Files { get; }

    /// <summary>Whether the host turned out to refuse the API's writes (a free license); then writes go over SSH.</summary>
    public FreeLicense FreeLicense { get; }

    /// <summary>
    /// The transport rule. With the API (and not <c>-Transport Ssh</c>): reads over the API; writes over the API,
    /// switching to SSH for the rest of the session when a free license refuses them, if SSH is there too. Without
    /// the API (<c>-Transport Ssh</c>, or Auto when it was unreachable): everything over SSH.
    /// </summary>
    /// <param name="server">The host's name as given (for messages).</param>
    /// <param name="soap">The logged-in API client and its ServiceContent, or null.</param>
    /// <param name="ssh">The persistent SSH shell, or null.</param>
    public static HostAdapter For(string server, (VimClient Client, ServiceContent Content)? soap, SshSession? ssh)
    {
        var license = new FreeLicense();
        if (soap is { } api)
        {
            var soapFiles = new SoapFiles(api.Client, api.Content, server);
            IHostCommands commands = new SoapHostCommands(api.Client, api.Content, soapFiles);
            IHostFiles files = soapFiles;
            if (ssh is not null)
            {
                commands = new FallbackHostCommands(commands, new SshHostCommands(ssh, server), license, server);
                files = new FallbackHostFiles(files, new SshFiles(ssh, server), license, server);
            }

            return new HostAdapter(server, new SoapInventory(server, api.Client, api.Content), commands, files, license, ssh);
        }

        if (ssh is null)
        {
            throw new CesoException("NoTransport", CesoErrorKind.InvalidArgument, $"Session {server} has neither API nor SSH.") { Host = server };
        }

        return new HostAdapter(server, new SshInventory(server, ssh), new SshHostCommands(ssh, server), new SshFiles(ssh, server), license, ssh);
    }
}
