using Ava.WebhookApi.WhatsApp;
using Ava.WebhookApi.WhatsApp.Receiving;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddAvaDataSource();
builder.AddRedisClient("cache");
builder.AddWhatsApp();
builder.Services.AddProblemDetails();

var app = builder.Build();

app.UseExceptionHandler();
app.UseStatusCodePages();

app.MapWhatsAppWebhook();
app.MapDefaultEndpoints();

app.Run();
