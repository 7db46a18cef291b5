from django.urls import path

from . import chat_consumers, consumers

websocket_urlpatterns = [
    path("ws/agent/", consumers.AgentConsumer.as_asgi()),
    path("ws/chat/", chat_consumers.ResidentChatConsumer.as_asgi()),
]
