using System.Xml.Linq;

namespace Ceso.Engine.Soap;

/// <summary>*_Task methods: the call, then the task waited on with progress; Ctrl+C cancels the host's task and waits for it.</summary>
public sealed partial class VimClient
{
    /// <summary>
    /// Calls a *_Task method and waits for the task: returns its result (or null), or throws the task's fault as
    /// <see cref="VimFaultException"/>. Polls the task's info (real hosts finish tasks after the call returns).
    /// </summary>
    public async Task<Vmodl.VmodlNode?> InvokeTaskAsync(MoRef propertyCollector, string method, MoRef @this, IEnumerable<XElement> args, CancellationToken ct,
        IProgress<int>? progress = null)
    {
        var r = await InvokeAsync(method, @this, args, ct).ConfigureAwait(false);
        var task = ToMoRef(r.Element(Vim + "returnval")) ?? throw Malformed(method);
        try
        {
            return await WaitForTaskAsync(propertyCollector, method, task, progress, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Ctrl+C stops our waiting, not the host's work: ask the host to cancel the task and wait (bounded) until
            // it has ended, so that an undo does not race a disk copy or snapshot that is still running.
            using var grace = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            try
            {
                await InvokeAsync("CancelTask", task, [], grace.Token).ConfigureAwait(false);
            }
            catch (VimFaultException)
            {
                // not cancelable, or already done
            }

            try
            {
                await WaitForTaskAsync(propertyCollector, method, task, null, grace.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is CesoException or OperationCanceledException)
            {
                // ended with the cancellation fault, or still running after the grace period
            }

            throw;
        }
    }

    private async Task<Vmodl.VmodlNode?> WaitForTaskAsync(MoRef propertyCollector, string method, MoRef task, IProgress<int>? progress, CancellationToken ct)
    {
        var delay = TimeSpan.FromMilliseconds(50);
        while (true)
        {
            var objects = await RetrievePropertiesAsync(propertyCollector, [new PropertySpec("Task", ["info.state", "info.error", "info.result", "info.progress"])],
                [new ObjectSpec(task, false)], ct).ConfigureAwait(false);
            var props = objects.FirstOrDefault()?.Properties ?? throw Malformed(method + ": task vanished");
            if (progress is not null && int.TryParse(props.GetValueOrDefault("info.progress")?.Scalar, out var percent))
            {
                progress.Report(percent);
            }

            switch (props.GetValueOrDefault("info.state")?.Scalar)
            {
                case "success":
                    progress?.Report(100);
                    return props.GetValueOrDefault("info.result");
                case "error":
                    var error = props.GetValueOrDefault("info.error");
                    var fault = error?.Get("fault")?.ShortType ?? "SystemError";
                    var message = error?.String("localizedMessage") is { Length: > 0 } m ? m : fault;
                    throw new VimFaultException(fault, message, method) { Host = SdkUrl.Host, Command = method };
            }

            await Task.Delay(delay, ct).ConfigureAwait(false);
            delay = TimeSpan.FromMilliseconds(Math.Min(1000, delay.TotalMilliseconds * 2));
        }
    }
}
